"""Minimal PNG writing with the standard library only (8-bit gray or RGB), for the engine's
dataset scripts: no Pillow needed to make an image folder."""
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, channels: int, pixels: bytes) -> bytes:
    """pixels: height*width*channels bytes, rows top to bottom; channels 1 (gray) or 3 (RGB)."""
    color_type = {1: 0, 3: 2}[channels]
    stride = width * channels
    raw = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def write_png(path: str, width: int, height: int, channels: int, pixels: bytes) -> None:
    with open(path, "wb") as f:
        f.write(encode_png(width, height, channels, pixels))
