"""A long-lived PocketSphinx recogniser speaking a framed protocol over stdio.

The runtime supervises this process (see recogniserProcess.ts): it is started with the model's files as argv,
never through a shell, and answers one request at a time. Frames, both ways: a 4-byte big-endian length, then
that many bytes.

  request:  frame 1 = JSON {"id": int, "grammar": str | null}, frame 2 = 16 kHz mono int16 little-endian PCM
  response: frame   = JSON {"id": int, "text", "logProb", "words": [[word, startFrame, endFrame, logProb]]}
                      or {"id": int, "error": str, "kind": "grammar" | "engine"}

The first frame on stdout is {"ready": true, ...} once the model is loaded. The binding is ctypes over the
distribution's libpocketsphinx (0.8/5prealpha C API), so nothing is compiled or downloaded.
"""
import ctypes
import ctypes.util
import hashlib
import json
import struct
import sys
from collections import OrderedDict

MAX_FRAME = 64 * 1024 * 1024
MAX_GRAMMARS = 16


def load(name, fallback):
    path = ctypes.util.find_library(name) or fallback
    return ctypes.CDLL(path)


ps = load("pocketsphinx", "libpocketsphinx.so.3")
sb = load("sphinxbase", "libsphinxbase.so.3")
P = ctypes.c_void_p
I32 = ctypes.c_int32

ps.ps_args.restype = P
sb.cmd_ln_parse_r.restype = P
sb.cmd_ln_parse_r.argtypes = [P, P, I32, ctypes.POINTER(ctypes.c_char_p), I32]
ps.ps_init.restype = P
ps.ps_init.argtypes = [P]
ps.ps_start_utt.argtypes = [P]
ps.ps_end_utt.argtypes = [P]
ps.ps_process_raw.argtypes = [P, P, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
ps.ps_get_hyp.restype = ctypes.c_char_p
ps.ps_get_hyp.argtypes = [P, ctypes.POINTER(I32)]
ps.ps_get_prob.restype = I32
ps.ps_get_prob.argtypes = [P]
ps.ps_seg_iter.restype = P
ps.ps_seg_iter.argtypes = [P]
ps.ps_seg_next.restype = P
ps.ps_seg_next.argtypes = [P]
ps.ps_seg_word.restype = ctypes.c_char_p
ps.ps_seg_word.argtypes = [P]
ps.ps_seg_frames.argtypes = [P, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
ps.ps_seg_prob.restype = I32
ps.ps_seg_prob.argtypes = [P, ctypes.POINTER(I32), ctypes.POINTER(I32), ctypes.POINTER(I32)]
ps.ps_lookup_word.restype = P
ps.ps_lookup_word.argtypes = [P, ctypes.c_char_p]
ps.ps_set_jsgf_string.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
ps.ps_set_search.argtypes = [P, ctypes.c_char_p]
ps.ps_unset_search.argtypes = [P, ctypes.c_char_p]
ps.ps_get_search.restype = ctypes.c_char_p
ps.ps_get_search.argtypes = [P]
ps.ps_get_logmath.restype = P
ps.ps_get_logmath.argtypes = [P]
sb.logmath_exp.restype = ctypes.c_double
sb.logmath_exp.argtypes = [P, ctypes.c_int]


def read_exact(stream, n):
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data.extend(chunk)
    return bytes(data)


def read_frame(stream):
    head = read_exact(stream, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > MAX_FRAME:
        raise ValueError("frame too large")
    return read_exact(stream, n)


def write_frame(stream, value):
    body = json.dumps(value).encode("utf-8")
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


class Recogniser:
    def __init__(self, hmm, dictionary, lm):
        # -fsgusefiller no: under a grammar, silence and noise fillers are not allowed between words, where
        # they would swallow a short word (a room name) that the acoustic model matches less well than silence.
        argv = [b"-hmm", hmm, b"-dict", dictionary, b"-lm", lm, b"-logfn", b"/dev/null", b"-bestpath", b"yes", b"-fsgusefiller", b"no"]
        arr = (ctypes.c_char_p * len(argv))(*argv)
        config = sb.cmd_ln_parse_r(None, ps.ps_args(), len(argv), arr, 1)
        if not config:
            raise RuntimeError("the recogniser refused its arguments")
        self.decoder = ps.ps_init(config)
        if not self.decoder:
            raise RuntimeError("the recogniser could not load the model")
        self.grammars = OrderedDict()
        # The language-model search ps_init made is the default; its name varies between releases.
        self.default_search = ps.ps_get_search(self.decoder)
        self.logmath = ps.ps_get_logmath(self.decoder)

    def missing_words(self, grammar):
        # Only the words of rule bodies: tokens that are plain words after stripping JSGF syntax.
        body = "\n".join(line.split("=", 1)[1] for line in grammar.split(";") if "=" in line)
        words = set()
        for token in body.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ").replace("|", " ").replace("*", " ").replace("+", " ").split():
            if token.startswith("<") or token.startswith("/") or token.startswith("{"):
                continue
            words.add(token.lower())
        return sorted(w for w in words if not ps.ps_lookup_word(self.decoder, w.encode("utf-8")))

    def use_grammar(self, grammar):
        if grammar is None:
            ps.ps_set_search(self.decoder, self.default_search)
            return
        name = ("g" + hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]).encode()
        if name not in self.grammars:
            missing = self.missing_words(grammar)
            if missing:
                raise GrammarError("words not in the pronunciation dictionary: " + ", ".join(missing[:20]))
            if ps.ps_set_jsgf_string(self.decoder, name, grammar.encode("utf-8")) < 0:
                raise GrammarError("the grammar is not valid JSGF")
            self.grammars[name] = True
            while len(self.grammars) > MAX_GRAMMARS:
                old, _ = self.grammars.popitem(last=False)
                ps.ps_unset_search(self.decoder, old)
        else:
            self.grammars.move_to_end(name)
        if ps.ps_set_search(self.decoder, name) < 0:
            raise GrammarError("the grammar could not be activated")

    def recognise(self, pcm):
        d = self.decoder
        if ps.ps_start_utt(d) < 0:
            raise RuntimeError("could not start an utterance")
        buf = ctypes.create_string_buffer(pcm, len(pcm))
        if ps.ps_process_raw(d, buf, len(pcm) // 2, 0, 1) < 0:
            ps.ps_end_utt(d)
            raise RuntimeError("decoding failed")
        ps.ps_end_utt(d)
        score = I32()
        hyp = ps.ps_get_hyp(d, ctypes.byref(score))
        text = hyp.decode("utf-8") if hyp else ""
        probability = sb.logmath_exp(self.logmath, ps.ps_get_prob(d)) if text else 0.0
        words = []
        seg = ps.ps_seg_iter(d) if text else None
        sf, ef = ctypes.c_int(), ctypes.c_int()
        a, l, b = I32(), I32(), I32()
        while seg:
            word = ps.ps_seg_word(seg).decode("utf-8")
            ps.ps_seg_frames(seg, ctypes.byref(sf), ctypes.byref(ef))
            prob = ps.ps_seg_prob(seg, ctypes.byref(a), ctypes.byref(l), ctypes.byref(b))
            words.append([word, sf.value, ef.value, sb.logmath_exp(self.logmath, prob)])
            seg = ps.ps_seg_next(seg)
        return {"text": text, "probability": probability, "words": words}


class GrammarError(Exception):
    pass


def main():
    hmm, dictionary, lm = (a.encode() for a in sys.argv[1:4])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    recogniser = Recogniser(hmm, dictionary, lm)
    write_frame(stdout, {"ready": True, "frameRate": 100, "sampleRate": 16000})
    while True:
        header = read_frame(stdin)
        if header is None:
            return
        pcm = read_frame(stdin)
        if pcm is None:
            return
        request = json.loads(header)
        rid = request.get("id")
        try:
            recogniser.use_grammar(request.get("grammar"))
            result = recogniser.recognise(pcm)
            result["id"] = rid
            write_frame(stdout, result)
        except GrammarError as e:
            write_frame(stdout, {"id": rid, "error": str(e), "kind": "grammar"})
        except Exception as e:  # noqa: BLE001 - the supervisor decides; the process stays usable
            write_frame(stdout, {"id": rid, "error": str(e), "kind": "engine"})


if __name__ == "__main__":
    main()
