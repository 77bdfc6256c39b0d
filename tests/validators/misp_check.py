"""Checks a file of MISP events as MISP and PyMISP read them.

Usage: python3 misp_check.py EVENTS.json

EVENTS.json is one event ({"Event": ...}) or several as MISP's REST search
answers ({"response": [{"Event": ...}, ...]}). For every event:
- PyMISP loads it (MISPEvent.load), and its JSON round-trips through
  MISPEvent.to_json() with the same objects, attributes and tags;
- every object is rebuilt in strict mode from PyMISP's bundled template of
  the same name (MISPObject(name, strict=True)): same template uuid and
  version, every attribute relation known to the template with the
  template's type, a category MISP allows for that type (and the
  template's, if it names some), values from the template's values_list,
  then to_json(strict=True) checks required, requiredOneOf and multiple;
- every object reference uses a relationship of MISP's relationship list
  and points at an object of the event;
- every tag is a machine tag of a MISP taxonomy (pytaxonomies).
Prints each problem and exits 1 if there is any, else prints a summary.
"""

import json
import sys

from pymisp import MISPEvent, MISPObject
from pymisp.abstract import describe_types
from pytaxonomies import Taxonomies


def relationship_names():
    import os

    import pymisp

    path = os.path.join(
        os.path.dirname(pymisp.__file__),
        "data",
        "misp-objects",
        "relationships",
        "definition.json",
    )
    with open(path, encoding="utf-8") as f:
        return {v["name"] for v in json.load(f)["values"]}


def check_object(obj, event_uuids, relationships, where):
    problems = []
    try:
        template = MISPObject(obj.name, strict=True)
    except Exception as e:  # unknown template
        return [f"{where}: object {obj.name!r}: {e}"]
    where = f"{where} object {obj.name} {obj.uuid}"
    if obj.template_uuid != template.template_uuid:
        problems.append(
            f"{where}: template_uuid {obj.template_uuid} is not the template's {template.template_uuid}"
        )
    if int(obj.template_version) != int(template.template_version):
        problems.append(
            f"{where}: template_version {obj.template_version} is not the template's {template.template_version}"
        )
    definition = template._definition
    mapping = describe_types["category_type_mappings"]
    for attr in obj.attributes:
        relation = attr.object_relation
        spec = definition["attributes"].get(relation)
        if spec is None:
            problems.append(f"{where}: relation {relation!r} is not in the template")
            continue
        if attr.type != spec["misp-attribute"]:
            problems.append(
                f"{where}: {relation} has type {attr.type!r}, the template says {spec['misp-attribute']!r}"
            )
        if attr.type not in mapping.get(attr.category, []):
            problems.append(f"{where}: {relation}: category {attr.category!r} does not allow type {attr.type!r}")
        if "categories" in spec and attr.category not in spec["categories"]:
            problems.append(f"{where}: {relation}: category {attr.category!r} not in the template's {spec['categories']}")
        if "values_list" in spec and str(attr.value) not in spec["values_list"]:
            problems.append(f"{where}: {relation}: {attr.value!r} not in the template's values_list")
        if str(attr.value).strip() == "":
            problems.append(f"{where}: {relation} is empty")
        template.add_attribute(relation, value=attr.value, type=attr.type, category=attr.category)
    try:
        template.to_json(strict=True)
    except Exception as e:
        problems.append(f"{where}: strict template validation: {e}")
    for ref in obj.references:
        if ref.relationship_type not in relationships:
            problems.append(f"{where}: relationship {ref.relationship_type!r} is not one of MISP's")
        if ref.referenced_uuid not in event_uuids:
            problems.append(f"{where}: reference to {ref.referenced_uuid}, which is not in the event")
    return problems


def check_event(raw, taxonomies, relationships, index):
    problems = []
    event = MISPEvent()
    try:
        event.load(raw)
    except Exception as e:
        return [f"event {index}: PyMISP cannot load it: {e}"], None
    where = f"event {event.uuid}"
    if not event.info:
        problems.append(f"{where}: no info")
    for tag in event.tags:
        try:
            taxonomies.revert_machinetag(tag.name)
        except Exception:
            problems.append(f"{where}: tag {tag.name!r} is not a machine tag of any MISP taxonomy")
    if not any(t.name.startswith("tlp:") for t in event.tags):
        problems.append(f"{where}: no TLP tag")
    uuids = {o.uuid for o in event.objects}
    for obj in event.objects:
        problems += check_object(obj, uuids, relationships, where)
    again = MISPEvent()
    again.load(event.to_json())
    same = (
        len(again.objects) == len(event.objects)
        and sum(len(o.attributes) for o in again.objects) == sum(len(o.attributes) for o in event.objects)
        and [t.name for t in again.tags] == [t.name for t in event.tags]
    )
    if not same:
        problems.append(f"{where}: does not round-trip through MISPEvent.to_json()")
    return problems, event


def main(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    raws = data["response"] if isinstance(data, dict) and "response" in data else [data]
    taxonomies = Taxonomies()
    relationships = relationship_names()
    problems = []
    objects = attributes = 0
    for i, raw in enumerate(raws):
        found, event = check_event(raw, taxonomies, relationships, i)
        problems += found
        if event is not None:
            objects += len(event.objects)
            attributes += sum(len(o.attributes) for o in event.objects)
    for p in problems:
        print(p)
    print(f"{len(raws)} event(s), {objects} object(s), {attributes} attribute(s), {len(problems)} problem(s)")
    return 1 if problems or not raws else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
