#!/usr/bin/env python3
# An independent reader of TensorBoard event files for the tests: TFRecord framing with its masked CRC-32C
# (computed bit by bit here, not with a table), and a protocol-buffer wire decoder written from the field
# numbers of tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto:
#   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
#   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
# Prints the events as one JSON array. Exits non-zero on any framing, CRC or wire-format error.
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError('unsupported wire type %d' % wire)
        if pos > len(buf):
            raise ValueError('field %d runs past the end of its message' % number)
        yield number, wire, value


def decode_event(buf):
    event = {}
    for number, wire, value in fields(buf):
        if number == 1 and wire == 1:
            event['wall_time'] = struct.unpack('<d', value)[0]
        elif number == 2 and wire == 0:
            event['step'] = value
        elif number == 3 and wire == 2:
            event['file_version'] = value.decode('utf-8')
        elif number == 5 and wire == 2:
            values = []
            for n, w, v in fields(value):
                if n != 1 or w != 2:
                    raise ValueError('Summary: unexpected field %d' % n)
                item = {}
                for n2, w2, v2 in fields(v):
                    if n2 == 1 and w2 == 2:
                        item['tag'] = v2.decode('utf-8')
                    elif n2 == 2 and w2 == 5:
                        item['simple_value'] = struct.unpack('<f', v2)[0]
                    else:
                        raise ValueError('Summary.Value: unexpected field %d' % n2)
                values.append(item)
            event['summary'] = values
        else:
            raise ValueError('Event: unexpected field %d (wire type %d)' % (number, wire))
    return event


def main(path):
    data = open(path, 'rb').read()
    pos = 0
    events = []
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack('<Q', header)
        (length_crc,) = struct.unpack('<I', data[pos + 8:pos + 12])
        if length_crc != masked(header):
            raise ValueError('record at byte %d: length CRC mismatch' % pos)
        body = data[pos + 12:pos + 12 + length]
        (body_crc,) = struct.unpack('<I', data[pos + 12 + length:pos + 16 + length])
        if body_crc != masked(body):
            raise ValueError('record at byte %d: data CRC mismatch' % pos)
        events.append(decode_event(body))
        pos += 16 + length
    print(json.dumps(events))


if __name__ == '__main__':
    if sys.argv[1] == '--crc32c':
        print(json.dumps([crc32c(bytes.fromhex(h)) for h in sys.argv[2:]]))
    else:
        main(sys.argv[1])
