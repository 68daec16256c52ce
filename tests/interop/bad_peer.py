#!/usr/bin/python3
"""A BitTorrent peer that claims every piece and serves corrupted blocks (one byte flipped
in each), for the test that bttnode detects and bans such a peer.

  bad_peer.py TORRENT DATA_DIR PORT
"""
import os
import socket
import struct
import sys
import threading

import libtorrent as lt

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scenario_lib import read_exact  # noqa: E402


def serve(conn, info_hash, num_pieces, piece_len, read_block):
    try:
        hs = read_exact(conn, 68)
        if hs[28:48] != info_hash:
            return
        conn.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + info_hash + b"-XX0001-badbadbadbad")
        nbytes = (num_pieces + 7) // 8
        bits = bytearray(b"\xff" * nbytes)
        if num_pieces % 8:
            bits[-1] = (0xff << (8 - num_pieces % 8)) & 0xff
        conn.sendall(struct.pack(">IB", nbytes + 1, 5) + bytes(bits))
        conn.sendall(struct.pack(">IB", 1, 1))  # unchoke
        while True:
            (length,) = struct.unpack(">I", read_exact(conn, 4))
            if length == 0:
                continue
            body = read_exact(conn, length)
            if body[0] == 6:
                index, begin, size = struct.unpack(">III", body[1:13])
                data = bytearray(read_block(index, begin, size))
                data[0] ^= 0xff
                conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + bytes(data))
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    torrent, data_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ti = lt.torrent_info(torrent)
    info_hash = bytes.fromhex(str(ti.info_hash()))
    fs = ti.files()
    piece_len = ti.piece_length()

    def read_block(index, begin, size):
        out = b""
        for slice_ in ti.map_block(index, begin, size):
            path = "%s/%s" % (data_dir, fs.file_path(slice_.file_index))
            with open(path, "rb") as f:
                f.seek(slice_.offset)
                out += f.read(slice_.size)
        return out

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, info_hash, ti.num_pieces(), piece_len,
                                             read_block), daemon=True).start()


if __name__ == "__main__":
    main()
