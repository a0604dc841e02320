/**
 * Images of text rendered by librsvg (through sharp) with the fonts of Debian's font packages, and the known
 * box of each rendered line, found from its own ink: every line is also rendered alone on the same canvas and
 * its dark pixels bounded.
 */
import sharp from 'sharp';

export interface TextLineSpec {
  text: string;
  /** Left end of the baseline, in canvas pixels. */
  x: number;
  y: number;
  font: string;
  size: number;
  /** Degrees clockwise around the line's baseline start. */
  rotate?: number;
  weight?: 'normal' | 'bold';
  colour?: string;
}

export interface Canvas {
  width: number;
  height: number;
  /** SVG markup drawn under the text (a background); white when absent. */
  background?: string;
}

export interface InkBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fonts installed by fonts-dejavu-core, fonts-liberation and fonts-freefont-ttf. */
export const debianFonts = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono', 'Liberation Sans', 'Liberation Serif', 'Liberation Mono', 'FreeSans', 'FreeSerif'];

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function textElement(line: TextLineSpec): string {
  const rotate = line.rotate ? ` transform="rotate(${line.rotate} ${line.x} ${line.y})"` : '';
  return (
    `<text x="${line.x}" y="${line.y}" font-family="${escapeXml(line.font)}" font-size="${line.size}" font-weight="${line.weight ?? 'normal'}" ` +
    `fill="${line.colour ?? '#111'}" xml:space="preserve"${rotate}>${escapeXml(line.text)}</text>`
  );
}

function svg(canvas: Canvas, lines: readonly TextLineSpec[], background = true): string {
  const bg = background ? (canvas.background ?? '<rect width="100%" height="100%" fill="#fff"/>') : '<rect width="100%" height="100%" fill="#fff"/>';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${canvas.width}" height="${canvas.height}">${bg}${lines.map(textElement).join('')}</svg>`;
}

/** The canvas with every line, encoded as `format`. */
export async function renderText(canvas: Canvas, lines: readonly TextLineSpec[], format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const image = sharp(Buffer.from(svg(canvas, lines)));
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

/** The bounds of the line's own ink (pixels darker than mid-grey) when rendered alone on white. */
export async function inkBox(canvas: Canvas, line: TextLineSpec): Promise<InkBox> {
  const { data, info } = await sharp(Buffer.from(svg(canvas, [{ ...line, colour: '#000' }], false)))
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x] < 128) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < x0) throw new Error(`line ${JSON.stringify(line.text)} left no ink on the canvas`);
  return { x: x0, y: y0, width: x1 + 1 - x0, height: y1 + 1 - y0 };
}
