"""A loopback stand-in for a MISP instance's REST API, for the MISP sink's
tests (no MISP server can run on the test machine).

Usage: MISP_RECEIVER_KEY=KEY python3 misp_receiver.py
Prints "misp receiver at http://127.0.0.1:PORT" once it listens.

What it does, as MISP does it:
- every request must carry the key in the Authorization header (else 403,
  "Authentication failed...");
- POST /events/add: the body ({"Event": ...} or the bare event) is loaded
  with PyMISP (MISPEvent.load) and checked as tests/validators/misp_check.py
  checks an export (object templates in strict mode, MISP relationships,
  taxonomy tags); a failing event is refused (403, "Add event failed."),
  an event whose uuid is known is refused with 404, a Location header and
  "Event already exists, if you would like to edit it, use the url in the
  location header.", else it is stored and answered with its id;
- GET /events/view/{uuid|id}: the stored event, or 404;
- POST /objects/add/{event uuid|id}: the object (bare or {"Object": ...}),
  checked against its template the same way, added to the event;
- POST /sightings/add/{attribute uuid}: a sighting (PyMISP's MISPSighting)
  on a stored attribute; one with a uuid already stored is kept once.
Not MISP: GET /dump answers everything received, for the test to assert on.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from misp_check import check_event, check_object, relationship_names  # noqa: E402
from pymisp import MISPObject, MISPSighting  # noqa: E402
from pytaxonomies import Taxonomies  # noqa: E402

KEY = os.environ.get("MISP_RECEIVER_KEY", "")
TAXONOMIES = Taxonomies()
RELATIONSHIPS = relationship_names()
EXISTS = "Event already exists, if you would like to edit it, use the url in the location header."

# Reentrant: an answer written under the lock takes it again when the
# client has gone (a sink killed mid-request) to count the lost answer.
LOCK = threading.RLock()
STATE = {
    "events": {},  # uuid -> event JSON (with id)
    "event_posts": 0,
    "duplicate_events": 0,
    "objects_added": 0,
    "sightings": {},  # sighting uuid -> sighting JSON
    "sighting_posts": 0,
    "rejected": [],  # problems of refused requests
    "auth_failures": 0,
    "answers_lost": 0,
}


def find_event(key):
    for uuid, event in STATE["events"].items():
        if key in (uuid, event["id"]):
            return event
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away before the answer (a sink killed
            # mid-request): what was stored stays stored, as in MISP.
            with LOCK:
                STATE["answers_lost"] += 1

    def authorised(self):
        if KEY and self.headers.get("Authorization") == KEY:
            return True
        with LOCK:
            STATE["auth_failures"] += 1
        message = (
            "Authentication failed. Please make sure you pass the API key of an API enabled "
            "user along in the Authorization header."
        )
        self.answer(403, {"name": message, "message": message, "url": self.path})
        return False

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/dump":
            with LOCK:
                return self.answer(200, STATE)
        if not self.authorised():
            return
        if self.path.startswith("/events/view/"):
            with LOCK:
                event = find_event(self.path.rsplit("/", 1)[1])
                if event is None:
                    return self.answer(404, {"name": "Invalid event.", "message": "Invalid event.", "url": self.path})
                return self.answer(200, {"Event": event})
        self.answer(404, {"name": "Not Found", "message": "Not Found", "url": self.path})

    def do_POST(self):
        if not self.authorised():
            return
        try:
            body = self.body()
        except ValueError as e:
            return self.answer(400, {"name": "Bad Request", "message": str(e), "url": self.path})
        if self.path == "/events/add":
            return self.add_event(body)
        if self.path.startswith("/objects/add/"):
            return self.add_object(self.path.split("/")[3], body)
        if self.path.startswith("/sightings/add/"):
            return self.add_sighting(self.path.rsplit("/", 1)[1], body)
        self.answer(404, {"name": "Not Found", "message": "Not Found", "url": self.path})

    def add_event(self, body):
        raw = body if "Event" in body else {"Event": body}
        problems, event = check_event(raw, TAXONOMIES, RELATIONSHIPS, 0)
        with LOCK:
            STATE["event_posts"] += 1
            if event is not None and event.uuid in STATE["events"]:
                STATE["duplicate_events"] += 1
                known = STATE["events"][event.uuid]
                return self.answer(
                    404,
                    {"name": EXISTS, "message": EXISTS, "url": "/events/add"},
                    headers=[("Location", f"/events/{known['id']}")],
                )
            if problems or event is None:
                STATE["rejected"].extend(problems or ["unreadable event"])
                return self.answer(
                    403,
                    {"name": "Add event failed.", "message": "The event could not be saved.",
                     "url": "/events/add", "errors": problems},
                )
            stored = json.loads(event.to_json())
            stored["id"] = str(len(STATE["events"]) + 1)
            STATE["events"][event.uuid] = stored
            return self.answer(200, {"Event": stored})

    def add_object(self, event_key, body):
        raw = body.get("Object", body)
        with LOCK:
            event = find_event(event_key)
            if event is None:
                return self.answer(404, {"name": "Invalid event.", "message": "Invalid event.", "url": self.path})
            obj = MISPObject(raw.get("name", ""), strict=False)
            obj.from_dict(**raw)
            existing = event.setdefault("Object", [])
            if any(o.get("uuid") == obj.uuid for o in existing):
                problems = [f"object {obj.uuid} is already in the event"]
            else:
                uuids = {o["uuid"] for o in existing} | {obj.uuid}
                problems = check_object(obj, uuids, RELATIONSHIPS, f"event {event['uuid']}")
            if problems:
                STATE["rejected"].extend(problems)
                return self.answer(
                    403,
                    {"name": "Could not add object", "message": "Could not add object",
                     "url": self.path, "errors": problems},
                )
            stored = json.loads(obj.to_json())
            stored["event_id"] = event["id"]
            existing.append(stored)
            STATE["objects_added"] += 1
            return self.answer(200, {"Object": stored})

    def add_sighting(self, attribute_uuid, body):
        sighting = MISPSighting()
        sighting.from_dict(**body)
        with LOCK:
            STATE["sighting_posts"] += 1
            owner = None
            for event in STATE["events"].values():
                for obj in event.get("Object", []):
                    for attr in obj.get("Attribute", []):
                        if attr.get("uuid") == attribute_uuid:
                            owner = (event, attr)
            if owner is None:
                message = "Could not add the Sighting. Reason: No valid attributes found."
                return self.answer(
                    403,
                    {"saved": False, "name": message, "message": message,
                     "url": "/sightings/add", "errors": message},
                )
            stored = json.loads(sighting.to_json())
            stored["attribute_uuid"] = attribute_uuid
            stored["event_uuid"] = owner[0]["uuid"]
            key = stored.get("uuid") or f"{attribute_uuid}/{len(STATE['sightings'])}"
            STATE["sightings"].setdefault(key, stored)
            return self.answer(200, {"Sighting": STATE["sightings"][key]})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("MISP_RECEIVER_PORT", "0"))), Handler)
    print(f"misp receiver at http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
