"""Reference decoder for Content-Encoding: xpress bodies (Python 3 stdlib).

Written from the specifications, independently of src/common/xpress.c, so
that the integration tests check wsusd's encoder against the documents and
not against itself:

  MS-WUSP 2.1.1   the body is a sequence of blocks, each a little-endian
                  u32 original size, a little-endian u32 compressed size,
                  then the compressed bytes; sizes at most 65535; a block
                  whose compressed size equals its original size is stored
                  (WUSP.md 1.2, OBSERVED.md 5).
  MS-XCA 2.4.4    plain LZ77 decompression, followed step by step below,
                  with the spec's rule that any read or write outside the
                  buffers is an error.

Usage: decode_body(data, max_out=...) -> bytes, or raises XpressError.
"""

import struct

MAX_BLOCK = 65535


class XpressError(ValueError):
    pass


def lz77_decompress(inp, out_size):
    """MS-XCA 2.4.4 on one block; the output buffer holds OUT_SIZE bytes
    and must be filled exactly."""
    out = bytearray()

    def read(pos, n):
        if pos + n > len(inp):
            raise XpressError('read past the end of the compressed block')
        return inp[pos:pos + n]

    buffered_flags = 0
    buffered_flag_count = 0
    input_position = 0
    last_length_half_byte = 0
    while True:
        if buffered_flag_count == 0:
            buffered_flags = struct.unpack('<I', read(input_position, 4))[0]
            input_position += 4
            buffered_flag_count = 32
        buffered_flag_count -= 1
        if buffered_flags & (1 << buffered_flag_count) == 0:
            if len(out) >= out_size:
                raise XpressError('write past the end of the output')
            out += read(input_position, 1)
            input_position += 1
        else:
            if input_position == len(inp):
                break  # decompression is complete
            match_bytes = struct.unpack('<H', read(input_position, 2))[0]
            input_position += 2
            match_length = match_bytes % 8
            match_offset = match_bytes // 8 + 1
            if match_length == 7:
                if last_length_half_byte == 0:
                    match_length = read(input_position, 1)[0] % 16
                    last_length_half_byte = input_position
                    input_position += 1
                else:
                    match_length = inp[last_length_half_byte] // 16
                    last_length_half_byte = 0
                if match_length == 15:
                    match_length = read(input_position, 1)[0]
                    input_position += 1
                    if match_length == 255:
                        match_length = struct.unpack(
                            '<H', read(input_position, 2))[0]
                        input_position += 2
                        if match_length == 0:
                            match_length = struct.unpack(
                                '<I', read(input_position, 4))[0]
                            input_position += 4
                        if match_length < 15 + 7:
                            raise XpressError('invalid match length')
                        match_length -= 15 + 7
                    match_length += 15
                match_length += 7
            match_length += 3
            if match_offset > len(out):
                raise XpressError('match offset before the output start')
            if len(out) + match_length > out_size:
                raise XpressError('write past the end of the output')
            for _ in range(match_length):
                out.append(out[len(out) - match_offset])
    if len(out) != out_size:
        raise XpressError('block decodes to %d bytes, header says %d'
                          % (len(out), out_size))
    return bytes(out)


def decode_body(data, max_out=16 * 1024 * 1024):
    """The MS-WUSP block framing around MS-XCA plain LZ77."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 8:
            raise XpressError('truncated block header at %d' % pos)
        orig, comp = struct.unpack('<II', data[pos:pos + 8])
        pos += 8
        if not 0 < orig <= MAX_BLOCK or not 0 < comp <= MAX_BLOCK:
            raise XpressError('block sizes %d/%d out of range' % (orig, comp))
        if pos + comp > len(data):
            raise XpressError('truncated block at %d' % pos)
        if len(out) + orig > max_out:
            raise XpressError('decoded body over %d bytes' % max_out)
        block = data[pos:pos + comp]
        pos += comp
        if comp == orig:
            out += block
        else:
            out += lz77_decompress(block, orig)
    return bytes(out)


def blocks(data):
    """[(original size, compressed size)] of a block-framed body."""
    out = []
    pos = 0
    while pos + 8 <= len(data):
        orig, comp = struct.unpack('<II', data[pos:pos + 8])
        out.append((orig, comp))
        pos += 8 + comp
    return out


def _self_test():
    alphabet = bytes.fromhex('3f000000') + b'abcdefghijklmnopqrstuvwxyz'
    assert lz77_decompress(alphabet, 26) == b'abcdefghijklmnopqrstuvwxyz'
    abc = bytes.fromhex('ff ff ff 1f 61 62 63 17 00 0f ff 26 01')
    assert lz77_decompress(abc, 300) == b'abc' * 100
    body = struct.pack('<II', 300, len(abc)) + abc
    assert decode_body(body) == b'abc' * 100
    for bad in (body[:-1], body + b'\0', struct.pack('<II', 299, 13) + abc):
        try:
            decode_body(bad)
        except XpressError:
            continue
        raise AssertionError('accepted %r' % bad)


_self_test()
