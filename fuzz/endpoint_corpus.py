#!/usr/bin/env python3
"""Writes the seeds of fuzz_endpoint (fuzz/corpus/endpoint): one file per
decoder, the first byte selecting it (see fuzz/fuzz_endpoint.c)."""
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "endpoint")
os.makedirs(here, exist_ok=True)


def frame(op, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


join = b'["1","1","gen_api:u1","phx_join",{}]'
req = (b'["1","2","gen_api:u1","phoenix_gen_api",{"request_id":"r1",'
       b'"request_type":"echo","service":"svc","args":{"msg":"x"}}]')
seeds = {
    "frames-join": b"\x00" + frame(1, join),
    "frames-fragmented": b"\x00" + frame(1, req[:9], fin=False) + frame(9, b"p") + frame(0, req[9:]),
    "frames-close": b"\x00" + frame(8, b"\x03\xe8bye"),
    "v2-request": b"\x01" + req,
    "v2-heartbeat": b'\x01[null,"3","phoenix","heartbeat",{}]',
    "v1-join": b'\x02{"topic":"t","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}',
    "upgrade": (b"\x03GET /socket/websocket?vsn=2.0.0&token=a%2Bb HTTP/1.1\r\nHost: h\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://a.example\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    "token": b"\x04SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
    # #{a => [1, 2.5, <<"x">>], <<"k">> => nil}
    "term-map": bytes([5, 131, 116, 0, 0, 0, 2, 100, 0, 1, 97, 108, 0, 0, 0, 3, 97, 1,
                       70, 64, 4, 0, 0, 0, 0, 0, 0, 109, 0, 0, 0, 1, 120, 106,
                       109, 0, 0, 0, 1, 107, 100, 0, 3, 110, 105, 108]),
    # ["1","2","t:1","phoenix_gen_api",{"request_id":"r1","args":{"n":[1,2.5,true,null]}}]
    "msgpack-request": bytes([6, 0x95, 0xa1, 0x31, 0xa1, 0x32, 0xa3, 0x74, 0x3a, 0x31, 0xaf]) + b"phoenix_gen_api"
    + bytes([0x82, 0xaa]) + b"request_id" + bytes([0xa2]) + b"r1" + bytes([0xa4]) + b"args"
    + bytes([0x81, 0xa1, 0x6e, 0x94, 0x01, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0, 0xc3, 0xc0]),
}
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
