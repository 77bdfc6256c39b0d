#!/usr/bin/env python3
"""Expected documents of the real Telegram and pastebin pages, read by hand.

Like make_expected.py, this script never runs or reads leakwatch: it is a
second, independent reading of the pages in ../shared/fixtures/real/telegram
and ../shared/fixtures/real/paste (beside the checkout), from their markup as
a person sees it, so that extract/tests/telegram_paste_real.rs compares the
telegram and paste readers against something they did not produce. Standard
library only (html.parser builds a small element tree).

usage: make_telegram_paste_expected.py [SHARED_REAL_DIR]
       -- writes telegram-*.json and paste-*.json beside this script.

Each file is the list of documents `extract --engine auto PAGE --url URL`
prints (site "site", fetched_at left out), in page order.

Telegram (one document per div.tgme_widget_message[data-post]):
  id "site:" + data-post; listing_number data-post; kind "post";
  url             the href of the message's a.tgme_widget_message_date
  body            the message's own div.tgme_widget_message_text (the first
                  one; an album nests a second inside the first, and the
                  quoted message of a reply, a.tgme_widget_message_reply, is
                  not the message's): each <br> ends a line, so <br><br>
                  leaves one blank line; a block element starts a line; source
                  line breaks and blank runs are one space; lines trimmed,
                  never two blank lines in a row, none at the ends. Emoji are
                  the <b> inside i.emoji, as the browser shows them.
                  A message with no such text (a photo alone) is no document.
  seller          the channel: data-post before the "/"
  posted_at       the datetime of the date link's <time>, in UTC
  extra.channel, extra.message   data-post's two halves
  extra.channel_title  a.tgme_widget_message_owner_name's text
  extra.author    span.tgme_widget_message_from_author (the post signature)
  extra.views     span.tgme_widget_message_views, as shown ("8.67M")
  extra.edited    "true" when the meta line says "edited"
  extra.forwarded_from(_url)  a.tgme_widget_message_forwarded_from_name
  extra.reply_to  the reply block's href
  extra.media     what the message shows besides text: "album of N" (N the
                  grouped_media_wrap items), else photo / video
  extra.album     the message numbers of an album's items (their ?single links)
  extra.links     the absolute http(s) links in the text, then the link
                  preview's, each once (http and https of one address are
                  one), host in lower case, one a line

Pastebin paste page (one document):
  id "site:" + the rating's data-key; listing_number the key; kind "post";
  url the page URL; title div.info-top h1; seller the div.username link's
  text (a guest, shown as plain "a guest", is no seller); posted_at the
  div.date span's title ("Saturday 8th of October 2022 12:24:35 PM CDT", CDT
  being UTC-5) in UTC; body the div.source ol > li lines, &nbsp; as spaces,
  line ends trimmed, blank first and last lines dropped; extra: raw (the
  /raw/ link, absolute), syntax (the top-buttons' archive link), size
  ("1.36 KB"), category (unless "None"), views (div.visits), expires
  (div.expire).
Pastebin archive (one document per table.maintable row with a link):
  id "site:" + the link's key; url the link, absolute; title its text;
  posted_at the Posted cell ("11 sec ago") before FETCHED_ARCHIVE; extra.syntax
  the Syntax cell.
"""
import html.parser, json, os, re, sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../shared/fixtures/real")
# When the archive excerpt is taken to have been fetched (its dates are ages).
FETCHED_ARCHIVE = datetime(2022, 10, 8, 12, 0, 0, tzinfo=timezone.utc)

VOID = {"br", "img", "meta", "link", "input", "hr", "source", "area", "base", "col", "embed", "wbr"}
BLOCK = {"p", "div", "li", "tr", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
         "pre", "table", "tbody", "thead", "ul", "ol", "dl", "section", "article", "header",
         "footer", "nav", "main", "aside", "form", "hr", "figure", "details", "summary"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, pred):
        return [n for n in self.walk() if pred(n)]

    def find(self, pred):
        return next((n for n in self.walk() if pred(n)), None)

    def text(self):
        out = []
        for c in self.children:
            out.append(c.text() if isinstance(c, Node) else c)
        return "".join(out)


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(path):
    t = Tree()
    t.feed(open(path, encoding="utf-8").read())
    return t.root


def has_class(name):
    return lambda n: name in n.classes()


def squash(s):
    return " ".join(s.split())


def shown_text(node, skip=lambda n: False):
    """Text with <br> line breaks, as described in the docstring."""
    parts = []

    def line_start():
        if parts and not "".join(parts[-1:]).endswith("\n"):
            parts.append("\n")

    def go(n):
        for c in n.children:
            if isinstance(c, str):
                parts.append(c.replace("\n", " ").replace("\r", " "))
            elif c.tag in ("script", "style") or skip(c):
                continue
            elif c.tag == "br":
                parts.append("\n")
            elif c.tag in BLOCK:
                line_start()
                go(c)
                line_start()
            else:
                go(c)

    go(node)
    lines = [squash(l) for l in "".join(parts).split("\n")]
    out = []
    for l in lines:
        if l == "" and (not out or out[-1] == ""):
            continue
        out.append(l)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def in_reply(n, message):
    p = n.parent
    while p is not None and p is not message:
        if "tgme_widget_message_reply" in p.classes():
            return True
        p = p.parent
    return False


def own(message, pred):
    return message.find(lambda n: pred(n) and not in_reply(n, message))


def normal_url(u):
    parts = urlsplit(u)
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, parts.query, parts.fragment))


def utc(stamp):
    return datetime.fromisoformat(stamp).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def telegram(path, page_url):
    root = parse(path)
    docs = []
    for m in root.find_all(lambda n: "tgme_widget_message" in n.classes() and "data-post" in n.attrs):
        post = m.attrs["data-post"].strip()
        channel, number = post.rsplit("/", 1)
        text_el = own(m, has_class("tgme_widget_message_text"))
        body = shown_text(text_el) if text_el else ""
        if not body:
            continue
        date = own(m, lambda n: n.tag == "a" and "tgme_widget_message_date" in n.classes())
        time = date.find(lambda n: n.tag == "time")
        extra = {"channel": channel, "message": number}

        def put(key, node, value=None):
            if node is not None:
                v = value if value is not None else squash(node.text())
                if v:
                    extra[key] = v

        put("channel_title", own(m, has_class("tgme_widget_message_owner_name")))
        put("author", own(m, has_class("tgme_widget_message_from_author")))
        put("views", own(m, has_class("tgme_widget_message_views")))
        fwd = own(m, has_class("tgme_widget_message_forwarded_from_name"))
        put("forwarded_from", fwd)
        if fwd is not None and fwd.attrs.get("href"):
            extra["forwarded_from_url"] = normal_url(urljoin(page_url, fwd.attrs["href"]))
        reply = m.find(has_class("tgme_widget_message_reply"))
        if reply is not None and reply.attrs.get("href"):
            extra["reply_to"] = reply.attrs["href"]
        meta = own(m, has_class("tgme_widget_message_meta"))
        if meta is not None and "edited" in meta.text():
            extra["edited"] = "true"
        items = m.find_all(has_class("grouped_media_wrap"))
        if m.find(has_class("tgme_widget_message_grouped_wrap")):
            extra["media"] = f"album of {len(items)}"
        elif own(m, has_class("tgme_widget_message_photo_wrap")):
            extra["media"] = "photo"
        elif own(m, has_class("tgme_widget_message_video_player")):
            extra["media"] = "video"
        if len(items) > 1:
            extra["album"] = " ".join(urlsplit(a.attrs["href"]).path.rsplit("/", 1)[1] for a in items)
        links, seen = [], set()
        anchors = text_el.find_all(lambda n: n.tag == "a" and n.attrs.get("href"))
        preview = own(m, lambda n: n.tag == "a" and "tgme_widget_message_link_preview" in n.classes())
        for a in anchors + ([preview] if preview is not None else []):
            u = normal_url(urljoin(page_url, a.attrs["href"].strip()))
            if not u.startswith(("http://", "https://")):
                continue
            key = u.split("://", 1)[1]
            if key not in seen:
                seen.add(key)
                links.append(u)
        if links:
            extra["links"] = "\n".join(links)
        docs.append({
            "id": f"site:{post}", "site": "site", "url": date.attrs["href"], "kind": "post",
            "body": body, "seller": channel, "listing_number": post,
            "posted_at": utc(time.attrs["datetime"]), "extra": extra,
        })
    return docs


ZONES = {"CDT": -5, "CST": -6}


def pastebin_date(title):
    m = re.match(r"\w+ (\d+)\w\w of (\w+) (\d{4}) (\d\d):(\d\d):(\d\d) ([AP]M) (\w+)$", title.strip())
    day, month, year, h, mi, s, half, zone = m.groups()
    t = datetime.strptime(f"{day} {month} {year} {h}:{mi}:{s} {half}", "%d %B %Y %I:%M:%S %p")
    t = t.replace(tzinfo=timezone(timedelta(hours=ZONES[zone])))
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def paste_page(path, page_url):
    root = parse(path)
    view = root.find(has_class("post-view"))
    key = view.find(lambda n: "data-key" in n.attrs).attrs["data-key"]
    title = squash(view.find(has_class("info-top")).find(lambda n: n.tag == "h1").text())
    user = view.find(has_class("username"))
    link = user.find(lambda n: n.tag == "a")
    seller = squash(link.text()) if link is not None else None
    date = view.find(has_class("date")).find(lambda n: n.tag == "span")
    code = root.find(has_class("highlighted-code"))
    left = code.find(has_class("left"))
    extra = {}
    raw = code.find(lambda n: n.tag == "a" and n.attrs.get("href", "").startswith("/raw/"))
    extra["raw"] = urljoin(page_url, raw.attrs["href"])
    extra["syntax"] = squash(left.find(lambda n: n.tag == "a").text())
    extra["size"] = re.search(r"\d[\d.]* [KM]?B", left.text()).group(0)
    category = squash(left.find(lambda n: n.attrs.get("title") == "Category").text()).lstrip("| ").strip()
    if category != "None":
        extra["category"] = category
    extra["views"] = squash(view.find(has_class("visits")).text())
    extra["expires"] = squash(view.find(has_class("expire")).text())
    source = root.find(has_class("source"))
    lines = [] if source is None else [
        li.text().replace("\xa0", " ").rstrip() for li in source.find_all(lambda n: n.tag == "li")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    doc = {"id": f"site:{key}", "site": "site", "url": page_url, "kind": "post", "title": title}
    if lines:
        doc["body"] = "\n".join(lines)
    if seller:
        doc["seller"] = seller
    doc.update({"listing_number": key, "posted_at": pastebin_date(date.attrs["title"]), "extra": extra})
    return [doc]


def archive(path, page_url):
    root = parse(path)
    table = root.find(has_class("maintable"))
    docs = []
    for tr in table.find_all(lambda n: n.tag == "tr"):
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag == "td"]
        if not cells:
            continue
        a = cells[0].find(lambda n: n.tag == "a")
        url = urljoin(page_url, a.attrs["href"])
        key = url.rsplit("/", 1)[1]
        n, unit = re.match(r"(\d+) (\w+) ago", squash(cells[1].text())).groups()
        seconds = int(n) * {"sec": 1, "min": 60, "hour": 3600, "hours": 3600}[unit]
        posted = (FETCHED_ARCHIVE - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        docs.append({"id": f"site:{key}", "site": "site", "url": url, "kind": "post",
                     "title": squash(a.text()), "listing_number": key, "posted_at": posted,
                     "extra": {"syntax": squash(cells[2].text())}})
    return docs


PAGES = [
    ("telegram-durov-2026.json", telegram, "telegram/durov-2026.html", "https://t.me/s/durov"),
    ("telegram-topwar-2023.json", telegram, "telegram/topwar-2023-reindented.html",
     "https://t.me/s/topwar_official"),
    ("telegram-forwarded-fragment.json", telegram, "telegram/forwarded-message-fragment.html",
     "https://t.me/s/oper_goblin"),
    ("paste-2024.json", paste_page, "paste/pastebin-paste-2024.html", "https://pastebin.com/d4biUtRm"),
    ("paste-guest-2022.json", paste_page, "paste/pastebin-paste-guest-2022.html",
     "https://pastebin.com/tWGEUZ17"),
    ("paste-2022-fragment.json", paste_page, "paste/pastebin-paste-2022-fragment.html",
     "https://pastebin.com/PfppVpEm"),
    ("paste-archive-2022.json", archive, "paste/pastebin-archive-2022-excerpt.html",
     "https://pastebin.com/archive"),
]

if __name__ == "__main__":
    for out, read, page, url in PAGES:
        docs = read(os.path.join(REAL, page), url)
        with open(os.path.join(HERE, out), "w", encoding="utf-8") as f:
            json.dump(docs, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{out}: {len(docs)} documents")
