// Shapes as signed distance functions (negative inside, in pixels), so that one loop draws any shape with
// anti-aliased edges, and each shape's bounding box is known in closed form.
import type { Shape } from './catalogue.js';

const SQRT3 = Math.sqrt(3);
const SQUARE_HALF = 0.82;
const RING_MID = 0.72;
const RING_HALF_WIDTH = 0.28;
const CROSS_ARM = 0.95;
const CROSS_HALF_THICKNESS = 0.3;
const HEXAGON_INRADIUS = 0.85;

function sdBox(x: number, y: number, hx: number, hy: number): number {
  const qx = Math.abs(x) - hx;
  const qy = Math.abs(y) - hy;
  const ox = Math.max(qx, 0);
  const oy = Math.max(qy, 0);
  return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0);
}

/** Signed distance from (dx, dy) (pixels, y down, relative to the shape's centre) to a shape of size r. */
export function signedDistance(shape: Shape, dx: number, dy: number, r: number): number {
  switch (shape) {
    case 'circle':
      return Math.sqrt(dx * dx + dy * dy) - r;
    case 'ring':
      return Math.abs(Math.sqrt(dx * dx + dy * dy) - RING_MID * r) - RING_HALF_WIDTH * r;
    case 'square':
      return sdBox(dx, dy, SQUARE_HALF * r, SQUARE_HALF * r);
    case 'diamond':
      return (Math.abs(dx) + Math.abs(dy) - r) / Math.SQRT2;
    case 'cross':
      return Math.min(
        sdBox(dx, dy, CROSS_ARM * r, CROSS_HALF_THICKNESS * r),
        sdBox(dx, dy, CROSS_HALF_THICKNESS * r, CROSS_ARM * r),
      );
    case 'triangle': {
      // Equilateral, apex up, circumradius r (Inigo Quilez's exact SDF; it wants y up).
      const half = (r * SQRT3) / 2;
      let px = Math.abs(dx) - half;
      let py = -dy + half / SQRT3;
      if (px + SQRT3 * py > 0) {
        const nx = (px - SQRT3 * py) / 2;
        const ny = (-SQRT3 * px - py) / 2;
        px = nx;
        py = ny;
      }
      px -= Math.min(Math.max(px, -2 * half), 0);
      return -Math.sqrt(px * px + py * py) * Math.sign(py);
    }
    case 'hexagon': {
      // Flat top and bottom, inradius HEXAGON_INRADIUS * r (Quilez's SDF).
      const kx = -0.866025404;
      const ky = 0.5;
      const kz = 0.577350269;
      const ri = HEXAGON_INRADIUS * r;
      let px = Math.abs(dx);
      let py = Math.abs(dy);
      const dot = Math.min(kx * px + ky * py, 0);
      px -= 2 * dot * kx;
      py -= 2 * dot * ky;
      px -= Math.min(Math.max(px, -kz * ri), kz * ri);
      py -= ri;
      return Math.sqrt(px * px + py * py) * Math.sign(py);
    }
  }
}

export interface Extent {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** How far a shape of size 1 reaches from its centre on each side (y down). */
export function shapeExtent(shape: Shape): Extent {
  switch (shape) {
    case 'circle':
    case 'ring':
    case 'diamond':
      return { left: 1, right: 1, top: 1, bottom: 1 };
    case 'square':
      return { left: SQUARE_HALF, right: SQUARE_HALF, top: SQUARE_HALF, bottom: SQUARE_HALF };
    case 'cross':
      return { left: CROSS_ARM, right: CROSS_ARM, top: CROSS_ARM, bottom: CROSS_ARM };
    case 'triangle':
      return { left: SQRT3 / 2, right: SQRT3 / 2, top: 1, bottom: 0.5 };
    case 'hexagon': {
      const halfWidth = (HEXAGON_INRADIUS * 2) / SQRT3;
      return { left: halfWidth, right: halfWidth, top: HEXAGON_INRADIUS, bottom: HEXAGON_INRADIUS };
    }
  }
}
