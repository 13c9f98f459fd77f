#!/usr/bin/env python3
"""A hospital gateway for Perfuse's interoperability tests, built on hl7apy
(PyPI), a peer nobody on the Perfuse project wrote.

It listens on loopback only, with TLS that requires the pump's client
certificate, and keeps each pump's connection open (the pump dials out and
never listens: orders travel back over the connection it opened, see
docs/hospital-link.md). On that connection it:

- parses every message the pump sends with hl7apy at STRICT validation and
  validates its structure (PCD-04's ORU^R40 has no structure of its own in
  hl7apy: it is validated as ORU_R01, which its static definition fits),
  checks the IHE PCD profile OID in MSH-21, and answers with an accept
  acknowledgement (CA, or CE with the error);
- sends the infusion orders (RGV^O15, IHE PCD-03) that appear in --inbox as
  JSON files, each built as ER7 and checked by hl7apy before it is sent;
- offers the drug libraries that appear in --inbox (JSON with "kind":
  "library", naming the .toml and its .sig) as MFN^M01, serves the pump's
  chunk queries (QBP^Q11) with RSP^K11, and acknowledges its outcome
  (MFK^M01); a test can make it announce a wrong hash or size, cut the
  connection after some chunks, or stop finding the offer;
- records one JSON line per message, both ways, in --log.

Usage: hl7apy_gateway.py --cert C --key K --ca CA --log FILE --inbox DIR
It prints "port <n>" once it listens (on an ephemeral port unless --port).
"""

import argparse
import datetime
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.mllp import AbstractErrorHandler, AbstractHandler, MLLPRequestHandler, MLLPServer
from hl7apy.parser import parse_message, parse_segment

PROFILES = {
    "ORU^R01^ORU_R01": "1.3.6.1.4.1.19376.1.6.1.1.1",
    "ORU^R40^ORU_R40": "1.3.6.1.4.1.19376.1.6.1.4.1",
    "RRG^O16^RRG_O16": "1.3.6.1.4.1.19376.1.6.1.3.2",
}

LOG_LOCK = threading.Lock()

# Libraries offered, by offer id: their bytes and the test's instructions.
OFFERS = {}
OFFERS_LOCK = threading.Lock()
# The bytes of a library chunk in one OBX.
PIECE = 720
# A handler's reply that tells the connection to drop (a cut-off download).
CUT = object()


def log(args, entry):
    entry["at"] = time.time()
    with LOG_LOCK, open(args.log, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def now_hl7():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S+0000")


def header_fields(er7):
    return er7.split("\r", 1)[0].split("|")


def ack(er7, code, text=None):
    """An accept acknowledgement, built from the raw header so that a
    message hl7apy refused can still be answered."""
    msh = header_fields(er7)
    field = lambda n: msh[n] if len(msh) > n else ""
    trigger = (field(8).split("^") + [""])[1]
    segments = [
        "|".join(["MSH", "^~\\&", "GATEWAY", "HOSP", field(2), field(3), now_hl7(), "",
                  "ACK^%s^ACK" % trigger, "GW" + field(9), "P", "2.6"]),
        "MSA|%s|%s" % (code, field(9)),
    ]
    if text:
        clean = text.replace("|", " ").replace("\r", " ").replace("\n", " ")[:200]
        segments.append("ERR|||207^Application internal error^HL70357|E||||" + clean)
    message = parse_message("\r".join(segments), validation_level=VALIDATION_LEVEL.STRICT)
    message.validate()
    return message.to_mllp()


def read_strictly(er7):
    """The message parsed by hl7apy at STRICT level and validated."""
    kind = "^".join(header_fields(er7)[8].split("^")[:3])
    text = er7
    if kind == "ORU^R40^ORU_R40":
        text = er7.replace("ORU^R40^ORU_R40", "ORU^R40^ORU_R01", 1)
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    message.validate()
    oid = message.msh.msh_21.msh_21_3.to_er7() if kind in PROFILES else None
    if kind in PROFILES and oid != PROFILES[kind]:
        raise ValueError("MSH-21 names profile %r, not %s" % (oid, PROFILES[kind]))
    return kind, message


def observations(message):
    """OBX-3 code -> OBX-5 value, for the log."""
    found = {}
    for line in message.to_er7().split("\r"):
        fields = line.split("|")
        if fields[0] == "OBX" and len(fields) > 5:
            code = fields[3].split("^")[0]
            found.setdefault(code, fields[5])
    return found


class PumpMessage(AbstractHandler):
    def __init__(self, message, args):
        super().__init__(message)
        self.args = args

    def reply(self):
        kind, message = read_strictly(self.incoming_message)
        entry = {"direction": "in", "kind": kind, "valid": True,
                 "control_id": header_fields(self.incoming_message)[9],
                 "obx": observations(message)}
        if kind.startswith("RRG") or kind.startswith("ACK"):
            er7 = message.to_er7()
            msa = [line for line in er7.split("\r") if line.startswith("MSA|")][0].split("|")
            err = [line for line in er7.split("\r") if line.startswith("ERR|")]
            entry["msa"] = msa[1:3]
            entry["err"] = err[0].split("|")[8] if err and len(err[0].split("|")) > 8 else ""
        log(self.args, entry)
        if kind.startswith("ACK"):
            return ""
        return ack(self.incoming_message, "CA")


class Refused(AbstractErrorHandler):
    def __init__(self, exc, message, args):
        super().__init__(exc, message)
        self.args = args

    def reply(self):
        kind = "^".join(header_fields(self.incoming_message)[8].split("^")[:3]) \
            if self.incoming_message.startswith("MSH") else "?"
        log(self.args, {"direction": "in", "kind": kind, "valid": False,
                        "error": "%s: %s" % (type(self.exc).__name__, self.exc)})
        if kind.startswith("ACK"):
            return ""
        return ack(self.incoming_message, "CE", str(self.exc))


def order_message(order):
    """An RGV^O15 (IHE PCD-03) from the JSON the test wrote."""
    sent = order.get("sent", now_hl7())
    rate, rate_unit = order["rate"], order.get("rate_unit", "265266^MDC_DIM_MILLI_L_PER_HR^MDC")
    strength = ""
    if "amount" in order:
        strength = "%s|%s|||||%s|263762^MDC_DIM_MILLI_L^MDC" % (
            order["amount"], order["amount_unit"], order["volume"])
    rxg = "RXG|1|||%s^%s^LOCAL|%s||263762^MDC_DIM_MILLI_L^MDC||||||||%s|%s|%s" % (
        order.get("drug_code", "1"), order["drug"], order["vtbi"], rate, rate_unit, strength)
    segments = [
        "MSH|^~\\&|BCMA^GATEWAY^L|HOSP|PERFUSE^%s^L|HOSP|%s||RGV^O15^RGV_O15|%s|P|2.6|||AL|AL||UNICODE UTF-8|||"
        "IHE_PCD_PIV_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.3.1^ISO" % (order["pump"], sent, order["message"]),
        "PID|||%s^^^HOSP^MR||%s^%s" % (order["patient_id"], order["family"], order["given"]),
        "PV1||I|WARD^1^1",
        "ORC|RE|%s^BCMA|||||||%s" % (order["order_id"], sent),
        rxg,
        "TQ1|1|||||||%s" % order.get("expires", ""),
        "RXR|^IV^HL70162",
        "OBX|1||69986^MDC_DEV_PUMP_INFUS_VMD^MDC||||||||X|||||||%s^^%s^L" % (order["pump"], order["pump"]),
    ]
    if "weight" in order:
        segments.append("OBX|2|NM|68063^MDC_ATTR_PT_WEIGHT^MDC||%s|263875^MDC_DIM_KILO_G^MDC|||||F" % order["weight"])
    message = parse_message("\r".join(segments), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    message.validate()
    return message


def strict(er7):
    message = parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    message.validate()
    return message


def strict_any(er7):
    """MLLP for a message whose HL7 2.6 structure ends in the "any HL7
    segment" slot (MFN_M01 after MFE, RSP_K11 after QPD), which hl7apy's
    structures lack and its parser drops. The structure hl7apy knows is
    parsed and validated at STRICT level (and must read back as written);
    each segment after it is parsed and validated as a 2.6 segment on its
    own. The message goes out as written."""
    known = strict(er7).to_er7().split("\r")
    lines = er7.split("\r")
    if lines[:len(known)] != known:
        raise ValueError("hl7apy reads %r as %r" % (lines[:len(known)], known))
    for line in lines[len(known):]:
        segment = parse_segment(line, version="2.6", validation_level=VALIDATION_LEVEL.STRICT)
        segment.validate()
    return "\x0b" + er7 + "\r\x1c\r"


def library_offer(entry):
    """An MFN^M01 offering the library in the JSON the test wrote; the
    offer is kept for the chunk queries that follow."""
    import base64
    import hashlib
    with open(entry["file"], "rb") as source:
        data = source.read()
    with open(entry["signature_file"], "rb") as source:
        signature = source.read()
    sha = entry.get("announce_sha256", hashlib.sha256(data).hexdigest())
    size = entry.get("announce_size", len(data))
    sent = now_hl7()
    segments = [
        "MSH|^~\\&|GATEWAY|HOSP|PERFUSE|HOSP|%s||MFN^M01^MFN_M01|%s|P|2.6" % (sent, entry["message"]),
        "MFI|DRUGLIB^Drug library^99PFS||UPD|||AL",
        "MFE|MAD|%s|%s|%s^%s|CWE" % (entry["offer_id"], sent, entry["name"], entry["version"]),
        "OBX|1|ST|LIBRARY_SHA256^Drug library SHA-256^99PFS||%s||||||F" % sha,
        "OBX|2|NM|LIBRARY_SIZE^Drug library size^99PFS||%d|By^byte^UCUM|||||F" % size,
        "OBX|3|ED|LIBRARY_SIGNATURE^Drug library signature^99PFS||^text^plain^Base64^%s||||||F"
        % base64.b64encode(signature).decode("ascii"),
    ]
    wire = strict_any("\r".join(segments))
    with OFFERS_LOCK:
        OFFERS[entry["offer_id"]] = {"data": data, "entry": entry, "served": 0}
    return wire


class ChunkQuery(AbstractHandler):
    """QBP^Q11 for a chunk of an offered library: RSP^K11 with the bytes,
    or AE/NF when the offer is unknown."""

    def __init__(self, message, args):
        super().__init__(message)
        self.args = args

    def reply(self):
        import base64
        kind, message = read_strictly(self.incoming_message)
        control_id = header_fields(self.incoming_message)[9]
        qpd = [line for line in message.to_er7().split("\r") if line.startswith("QPD|")][0].split("|")
        offer_id, offset, length = (qpd[3].split("^") + ["", "", ""])[:3]
        offset, length = int(offset), int(length)
        log(self.args, {"direction": "in", "kind": kind, "valid": True, "control_id": control_id,
                        "offer_id": offer_id, "offset": offset, "length": length})
        with OFFERS_LOCK:
            offer = OFFERS.get(offer_id)
            entry = offer["entry"] if offer else {}
            served = offer["served"] if offer else 0
            if offer and "cut_after_chunks" in entry and served >= entry["cut_after_chunks"]:
                entry.pop("cut_after_chunks")
                log(self.args, {"direction": "cut", "offer_id": offer_id, "offset": offset})
                return CUT
            missing = offer is None or served >= entry.get("not_found_after_chunks", 1 << 30)
            if offer:
                offer["served"] += 1
        head = "MSH|^~\\&|GATEWAY|HOSP|PERFUSE|HOSP|%s||RSP^K11^RSP_K11|GW%s|P|2.6" % (now_hl7(), control_id)
        echo = "QPD|DRUGLIB_CHUNK^Drug library chunk^99PFS|%s|%s^%d^%d" % (control_id, offer_id, offset, length)
        if missing:
            segments = [head, "MSA|AE|%s" % control_id,
                        "ERR|||207^Application internal error^HL70357|E||||offer %s is no longer offered" % offer_id,
                        "QAK|%s|NF|DRUGLIB_CHUNK^Drug library chunk^99PFS|0|0|0" % control_id, echo]
        else:
            data = offer["data"][offset:offset + length]
            segments = [head, "MSA|AA|%s" % control_id,
                        "QAK|%s|OK|DRUGLIB_CHUNK^Drug library chunk^99PFS|1|1|0" % control_id, echo]
            # hl7apy holds OBX-5 to 999 characters (HL7 allows 99,999):
            # the chunk goes in pieces of 720 bytes, 960 in base64.
            for number, start in enumerate(range(0, len(data), PIECE), 1):
                piece = base64.b64encode(data[start:start + PIECE]).decode("ascii")
                segments.append(
                    "OBX|%d|ED|DRUGLIB_CHUNK^Drug library chunk^99PFS|%d|^application^toml^Base64^%s||||||F"
                    % (number, offset + start, piece))
        wire = strict_any("\r".join(segments))
        log(self.args, {"direction": "out", "kind": "RSP^K11^RSP_K11", "offer_id": offer_id,
                        "offset": offset, "found": not missing})
        return wire


class LibraryOutcome(AbstractHandler):
    """MFK^M01: what the pump made of an offer; logged and acknowledged."""

    def __init__(self, message, args):
        super().__init__(message)
        self.args = args

    def reply(self):
        kind, message = read_strictly(self.incoming_message)
        lines = message.to_er7().split("\r")
        field = lambda name, n: next((line.split("|")[n] for line in lines
                                      if line.startswith(name + "|") and len(line.split("|")) > n), "")
        log(self.args, {"direction": "in", "kind": kind, "valid": True,
                        "control_id": header_fields(self.incoming_message)[9],
                        "msa": [field("MSA", 1), field("MSA", 2)], "err": field("ERR", 8),
                        "offer_id": field("MFA", 2), "result": field("MFA", 4).split("^")[0]})
        return ack(self.incoming_message, "CA")


class PumpConnection(MLLPRequestHandler):
    """One pump's connection, kept open: hl7apy's own handler reads one
    message and closes, which a pump that dials out cannot use."""

    def handle(self):
        args = self.server.args
        self.request.settimeout(0.1)
        log(args, {"direction": "connect"})
        pending = b""
        while True:
            for name in sorted(os.listdir(args.inbox)):
                if not name.endswith(".json"):
                    continue
                path = os.path.join(args.inbox, name)
                with open(path, encoding="utf-8") as source:
                    order = json.load(source)
                os.rename(path, path + ".sent")
                if order.get("kind") == "library":
                    wire = library_offer(order)
                    self.request.sendall(wire.encode(self.encoding))
                    log(args, {"direction": "out", "kind": "MFN^M01^MFN_M01",
                               "control_id": order["message"], "offer_id": order["offer_id"]})
                    continue
                message = order_message(order)
                sending_at = time.time()
                self.request.sendall(message.to_mllp().encode(self.encoding))
                log(args, {"direction": "out", "kind": "RGV^O15^RGV_O15",
                           "control_id": order["message"], "order_id": order["order_id"],
                           "sending_at": sending_at})
            try:
                chunk = self.request.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                break
            if not chunk:
                break
            pending += chunk
            while b"\x1c\x0d" in pending:
                frame, pending = pending.split(b"\x1c\x0d", 1)
                start = frame.find(b"\x0b")
                if start < 0:
                    continue
                text = frame[start + 1:].decode(self.encoding).rstrip("\r")
                reply = self._route_message(text)
                if reply is CUT:
                    log(args, {"direction": "disconnect"})
                    return
                if reply:
                    self.request.sendall(reply.encode(self.encoding))
        log(args, {"direction": "disconnect"})


class Gateway(MLLPServer):
    daemon_threads = True

    def __init__(self, args, context):
        self.args = args
        self.context = context
        handler = (PumpMessage, args)
        handlers = {kind: handler for kind in
                    ("ORU^R01^ORU_R01", "ORU^R40^ORU_R40", "RRG^O16^RRG_O16", "ACK^O15^ACK",
                     "ACK^M01^ACK")}
        handlers["QBP^Q11^QBP_Q11"] = (ChunkQuery, args)
        handlers["MFK^M01^MFK_M01"] = (LibraryOutcome, args)
        handlers["ERR"] = (Refused, args)
        super().__init__("127.0.0.1", args.port, handlers, timeout=10,
                         request_handler_class=PumpConnection)

    def get_request(self):
        sock, address = self.socket.accept()
        # One message, then its answer: small writes go at once (without
        # it, Nagle holds a write for the pump's delayed ACK, 40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            return self.context.wrap_socket(sock, server_side=True), address
        except (ssl.SSLError, OSError) as error:
            log(self.args, {"direction": "tls-refused", "error": str(error)})
            sock.close()
            raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True, help="the CA the pump's certificate must chain to")
    parser.add_argument("--log", required=True)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    context.load_verify_locations(args.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    os.makedirs(args.inbox, exist_ok=True)
    server = Gateway(args, context)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
