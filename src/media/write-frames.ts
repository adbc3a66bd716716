// Writes rgb24 frames as PNG images through ffmpeg (frames on stdin; arguments as an array).
import { spawn } from 'node:child_process';

/** Writes `frames` (each height×width×3 bytes) to files named by `pattern` (e.g. dir/frame-%03d.png). */
export async function writePngFrames(frames: Uint8Array[], width: number, height: number, pattern: string): Promise<void> {
  const args = ['-nostdin', '-hide_banner', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-start_number', '0', pattern];
  // -nostdin would stop ffmpeg reading its stdin for commands, not for the input named pipe:0.
  const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  for (const frame of frames) {
    if (!child.stdin.write(frame)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg could not write ${pattern}: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`);
}
