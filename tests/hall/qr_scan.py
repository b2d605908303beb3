"""Reads the text of a QR code drawn as the ticket's SVG, as a phone would: from the modules
alone, following ISO/IEC 18004 (format information, function patterns, unmasking, the zigzag
placement, block de-interleaving, byte mode). Enough for what the platform prints: error
correction M, versions 1–10, one byte-mode segment, no damage to correct."""

import re

QUIET_ZONE = 4
# Level M: (count, data codewords) for each group of blocks, versions 1–10 (ISO/IEC 18004 table 9).
BLOCKS_M = {
    1: [(1, 16)],
    2: [(1, 28)],
    3: [(1, 44)],
    4: [(2, 32)],
    5: [(2, 43)],
    6: [(4, 27)],
    7: [(4, 31)],
    8: [(2, 38), (2, 39)],
    9: [(3, 36), (2, 37)],
    10: [(4, 43), (1, 44)],
}
ALIGNMENT = {
    2: [6, 18],
    3: [6, 22],
    4: [6, 26],
    5: [6, 30],
    6: [6, 34],
    7: [6, 22, 38],
    8: [6, 24, 42],
    9: [6, 26, 46],
    10: [6, 28, 50],
}
MASKS = [
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
]


def modules_of(svg: str) -> list[list[bool]]:
    """The dark modules of the SVG's path of runs, quiet zone removed (row, column)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1]) - 2 * QUIET_ZONE
    grid = [[False] * size for _row in range(size)]
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        for column in range(int(x), int(x) + int(length)):
            grid[int(y) - QUIET_ZONE][column - QUIET_ZONE] = True
    return grid


def _function_modules(size: int, version: int) -> set[tuple[int, int]]:
    taken: set[tuple[int, int]] = set()

    def region(top: int, left: int, height: int, width: int) -> None:
        taken.update((r, c) for r in range(top, top + height) for c in range(left, left + width))

    region(0, 0, 9, 9)  # finder, separator and format information, top left
    region(0, size - 8, 9, 8)  # top right
    region(size - 8, 0, 8, 9)  # bottom left, with the dark module
    region(6, 9, 1, size - 17)  # timing patterns
    region(9, 6, size - 17, 1)
    centres = ALIGNMENT.get(version, [])
    for r in centres:
        for c in centres:
            if (r, c) not in ((centres[0], centres[0]), (centres[0], centres[-1]), (centres[-1], centres[0])):
                region(r - 2, c - 2, 5, 5)
    if version >= 7:
        region(0, size - 11, 6, 3)  # version information
        region(size - 11, 0, 3, 6)
    return taken


def _format(grid: list[list[bool]]) -> tuple[int, int]:
    """(error correction bits, mask) from the format information beside the top-left finder."""
    cells = [(8, c) for c in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(r, 8) for r in range(5, -1, -1)]
    bits = 0
    for r, c in cells:
        bits = bits << 1 | grid[r][c]
    data = (bits ^ 0x5412) >> 10
    return data >> 3, data & 7


def scan(svg: str) -> str:
    grid = modules_of(svg)
    size = len(grid)
    version = (size - 17) // 4
    level, mask = _format(grid)
    assert level == 0b00, "error correction M"
    taken = _function_modules(size, version)
    codewords, byte, count = [], 0, 0
    upward = True
    column = size - 1
    while column > 0:
        if column == 6:
            column -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (column, column - 1):
                if (r, c) in taken:
                    continue
                byte = byte << 1 | (grid[r][c] != MASKS[mask](r, c))
                count += 1
                if count == 8:
                    codewords.append(byte)
                    byte, count = 0, 0
        upward = not upward
        column -= 2
    blocks = [length for groups, length in BLOCKS_M[version] for _n in range(groups)]
    data: list[list[int]] = [[] for _block in blocks]
    position = 0
    for index in range(max(blocks)):
        for block, length in enumerate(blocks):
            if index < length:
                data[block].append(codewords[position])
                position += 1
    bits = "".join(f"{value:08b}" for block in data for value in block)
    assert bits[:4] == "0100", "byte mode"
    length_bits = 8 if version < 10 else 16
    length = int(bits[4 : 4 + length_bits], 2)
    start = 4 + length_bits
    payload = bytes(int(bits[start + 8 * i : start + 8 * i + 8], 2) for i in range(length))
    return payload.decode("utf-8")
