#!/usr/bin/env python3
"""Expected rows of the real list pages, read from the saved HTML by hand.

This script never runs or reads leakwatch: it is a second, independent reading
of the pages in ../shared/fixtures/real/ (beside the checkout), written from
the markup of each page as a person sees it in a browser, so that
`extract/tests/real_pages.rs` can compare the extractor against something it
did not produce. It uses only the Python standard library (html.parser builds
a small element tree; entities are decoded by html.parser itself).

usage: make_expected.py [SHARED_REAL_DIR]   (default: ../../../../shared/fixtures/real
       from this file) -- writes <dir>.json beside this script, one per page.

Each JSON file is a list, one object per listing row in page order:
  title            the title link's text, entities decoded, whitespace collapsed
  url              the title link's href resolved (urljoin) against the page URL
                   of labels.jsonl's url_guess, then put in leakwatch's canonical
                   form: no #fragment, lowercase host, percent-escapes upper
                   case with unreserved characters decoded, session parameters
                   (sid, s, phpsessid, sessionid, session_id, jsessionid,
                   utm_*, fbclid, gclid) dropped, the others sorted by name
                   (stable), each keeping its original encoding
  seller           the thread starter as shown (never the last poster)
  posted_at_shown  the row's own start date text as shown (never the last
                   post's), null when the row shows none
  posted_at_local  the same date as an absolute local time: posted_at_shown,
                   or, where the page shows a relative date ("1 hour ago",
                   "Yesterday at 03:18 AM"), the exact date of its title
                   attribute (what the browser shows on hover)
  posted_at_zone   the site's zone assumed: +08:00 for 暗网中文网 and both
                   Discuz! boards (Beijing; the presets say so), UTC for the
                   others (nothing on them names a zone)
  posted_at        posted_at_local in posted_at_zone, as RFC 3339 UTC; a date
                   without a time is midnight local time
  replies          the reply count as shown ("2,791"), null when not shown
  price            (anwang-2020 only) the 标价 cell text

How each page is read:
- anwang-2020/ea-10001-list.html (UTF-8): table.u_ea_a; a row is a <tr> of 7
  cells whose first cell is the row number (the caption row, the header row
  ID/发布时间/... and the empty <tr><td colspan=7> spacer after every row are
  not). Cells: 1 发布时间 "2020-09-01 13:59", 2 发布人 (numeric user id),
  3 内容 (the link in div.length_500 is the title), 4 标价. No reply count.
  The four promoted links of table.t_topad are not rows.
- raidforums/Forum-Leaks-Market.html (UTF-8, MyBB): the <tr>s of the thread
  table whose second cell has class forumdisplay_announcement,
  forumdisplay_sticky or forumdisplay_regular (the 'Forum Announcements' /
  'Important Threads' / 'Normal Threads' td.tcat rows and the header row are
  not). Announcements: title a.subject_old, author div.author, the date is
  the last cell's text (the announcement's start date), replies '-' (none).
  Threads: title a.forum-display__thread-name (its span; the 'PAID-STICKY'/
  'SELLING' prefix span, the 'New' link and the '(Pages: 1 2)' pager are
  outside it), author span.author ("by NAME"), date
  span.forum-display__thread-date; a relative date there carries the exact
  date in a span title; replies: the whoposted link in the first cell after
  the title cell. The div.lastpost in the title cell and the last cell are
  the last post (poster and time): never read.
- discuz-1984bbs/forumdisplay-fid2.html (GBK, Discuz! 7): one
  tbody#stickthread_N / tbody#normalthread_N per row (in two tables; the
  thead.separation '版块主题' row is not). Title span#thread_N > a (the
  span.threadpages pager and the 'New' link are not the title); author
  td.author > cite; date td.author > em ("2009-7-5", a date only); replies
  td.nums > strong (the em is the views). td.lastpost is the last post.
- discuz-x3/forum-2-1.html (UTF-8, Discuz! X3): tbody#normalthread_N of
  table#threadlisttableid (the empty tbody#separatorline is not a row).
  Title a.xst; author: the first td.by > cite; date: the first td.by > em
  ("2022-3-3", a date only); replies td.num > a (the em is the views). The
  second td.by is the last post.
- phpbb-eaglecraft/viewforum-f2.html (UTF-8, phpBB 3 table style): every <tr>
  holding an a.topictitle (the 'Forum' table above holds an a.forumtitle,
  not a topic). Title a.topictitle (the strong.pagination '1, 2' after it is
  not); author: the .username-coloured inside span.forum-descriptions ("par
  NAME » Mar 07 Juil 2015, 11:12", French: 'Mar' before the day is mardi,
  not March); date: the text after '»'; replies td.forumtopics .statbubble
  > span. span.phones and the last cell ('Dernier message par') are the last
  post.
- smf-bitcointalk/board-52.html (ISO-8859-1, numeric entities, SMF 1.1): the
  <tr>s of the topic table holding a span#msg_N (the header row 'Subject /
  Started by / ...' is not). Title span#msg_N > a (the small#pagesN pager
  is not); author: the next cell ('Started by'); replies: the cell after it.
  The rows show no start date (the last cell is the last post): null.

And breachforums-index.json, for the index page (no listing rows): the
Forum-… links and the newest thread of each forum row that a crawl must
follow (see breachforums_index below).
"""

import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REAL = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "real")
)

# ---------------------------------------------------------------- the tree

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link",
    "meta", "param", "source", "track", "wbr",
}
# A start tag of the key closes an open element of the value set, without
# crossing an element of the barrier set (how browsers close <td>, <tr>, ...).
IMPLIED = {
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "tr": ({"tr", "td", "th"}, {"table", "tbody", "thead", "tfoot"}),
    "tbody": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "thead": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "tfoot": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
    "li": ({"li"}, {"ul", "ol"}),
    "option": ({"option"}, {"select"}),
}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = {k: (v if v is not None else "") for k, v in attrs}
        self.parent = parent
        self.children = []

    def classes(self):
        return self.attrs.get("class", "").split()

    def has_class(self, name):
        return name in self.classes()

    def descendants(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.descendants()

    def find_all(self, pred):
        return [n for n in self.descendants() if pred(n)]

    def find(self, pred):
        for n in self.descendants():
            if pred(n):
                return n
        return None

    def cells(self):
        return [c for c in self.children if isinstance(c, Node) and c.tag in ("td", "th")]

    def raw_text(self):
        out = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag not in ("script", "style"):
                    out.append(child.raw_text())
            else:
                out.append(child)
        return "".join(out)

    def text(self):
        return collapse(self.raw_text())


def collapse(text):
    # Unicode whitespace, &nbsp; included, as a browser renders it.
    return " ".join(text.split())


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in IMPLIED:
            closes, barrier = IMPLIED[tag]
            for i in range(len(self.stack) - 1, 0, -1):
                t = self.stack[i].tag
                if t in barrier:
                    break
                if t in closes:
                    del self.stack[i:]
                    break
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
        # An end tag with nothing open to close (</b> after a broken <b):
        # ignored, as browsers do.

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(text):
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# ---------------------------------------------------------------- URLs

STRIP = {"sid", "s", "phpsessid", "sessionid", "session_id", "jsessionid", "fbclid", "gclid"}
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalise_escapes(part, charset="utf-8"):
    """Upper-case %xx, decode unreserved ones, escape what may not stand bare."""
    out = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", part[i + 1:i + 3] or ""):
            ch = chr(int(part[i + 1:i + 3], 16))
            out.append(ch if ch in UNRESERVED else "%" + part[i + 1:i + 3].upper())
            i += 3
            continue
        if ord(c) > 0x7E or c in ' "<>`' or ord(c) < 0x21:
            out.append("".join("%%%02X" % b for b in c.encode(charset)))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def param_name(pair):
    name = pair.split("=", 1)[0]
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), name).lower()


def canonical_url(base, href, charset="utf-8"):
    absolute = urljoin(base, href.strip())
    scheme, netloc, path, query, _fragment = urlsplit(absolute)
    netloc = netloc.lower().rstrip(".")
    if (scheme, netloc.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rsplit(":", 1)[0]
    path = normalise_escapes(path) or "/"
    pairs = [p for p in query.split("&") if p]
    pairs = [p for p in pairs if param_name(p) not in STRIP and not param_name(p).startswith("utm_")]
    pairs.sort(key=lambda p: normalise_escapes(p.split("=", 1)[0]))
    query = "&".join(normalise_escapes(p, charset) for p in pairs)
    return urlunsplit((scheme, netloc, path, query, ""))


# ---------------------------------------------------------------- dates

BEIJING = timezone(timedelta(hours=8))
UTC = timezone.utc
FRENCH_MONTHS = {
    "janv": 1, "jan": 1, "févr": 2, "fév": 2, "mars": 3, "avr": 4, "mai": 5,
    "juin": 6, "juil": 7, "août": 8, "sept": 9, "sep": 9, "oct": 10,
    "nov": 11, "déc": 12,
}


def to_utc(local, zone):
    return local.replace(tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_fields(shown, local_text, zone, parse_local):
    if local_text is None:
        return {"posted_at_shown": None, "posted_at_local": None,
                "posted_at_zone": zone_name(zone), "posted_at": None}
    return {
        "posted_at_shown": shown,
        "posted_at_local": local_text,
        "posted_at_zone": zone_name(zone),
        "posted_at": to_utc(parse_local(local_text), zone),
    }


def zone_name(zone):
    return "+08:00" if zone is BEIJING else "UTC"


def ymd_hm(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def ymd(text):
    # "2009-7-5": a date without a time is midnight local time.
    y, m, d = (int(x) for x in text.split("-"))
    return datetime(y, m, d)


def mybb_date(text):
    # "March 19, 2021 at 06:53 PM"
    return datetime.strptime(text, "%B %d, %Y at %I:%M %p")


def french_date(text):
    # "Mar 07 Juil 2015, 11:12": weekday, day, month, year, time.
    m = re.fullmatch(r"\w+ (\d{1,2}) (\w+) (\d{4}), (\d{2}):(\d{2})", text)
    if not m:
        raise ValueError(f"not a phpBB French date: {text!r}")
    month = FRENCH_MONTHS[m.group(2).lower()]
    return datetime(int(m.group(3)), month, int(m.group(1)), int(m.group(4)), int(m.group(5)))


# ---------------------------------------------------------------- pages


def anwang_2020(root, base):
    table = root.find(lambda n: n.tag == "table" and n.has_class("u_ea_a"))
    rows = []
    for tr in table.find_all(lambda n: n.tag == "tr"):
        cells = tr.cells()
        if len(cells) != 7 or not cells[0].text().isdigit():
            continue
        link = cells[3].find(lambda n: n.tag == "a")
        date = cells[1].text()
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"]),
            "seller": cells[2].text(),
            **date_fields(date, date, BEIJING, ymd_hm),
            "replies": None,
            "price": cells[4].text(),
        })
    return rows


def raidforums(root, base):
    kinds = ("forumdisplay_announcement", "forumdisplay_sticky", "forumdisplay_regular")
    rows = []
    for tr in root.find_all(lambda n: n.tag == "tr"):
        cells = tr.cells()
        if len(cells) < 5 or not any(cells[1].has_class(k) for k in kinds):
            continue
        title_cell = cells[1]
        if title_cell.has_class("forumdisplay_announcement"):
            link = title_cell.find(lambda n: n.tag == "a" and n.has_class("subject_old"))
            author = title_cell.find(lambda n: n.has_class("author"))
            shown = cells[-1].text()
            local = shown
        else:
            link = title_cell.find(lambda n: n.tag == "a" and n.has_class("forum-display__thread-name"))
            author = title_cell.find(lambda n: n.tag == "span" and n.has_class("author"))
            date = title_cell.find(lambda n: n.tag == "span" and n.has_class("forum-display__thread-date"))
            shown = date.text()
            exact = date.find(lambda n: n.tag == "span" and "title" in n.attrs)
            if exact is None:
                local = shown
            elif " at " in exact.attrs["title"]:
                local = exact.attrs["title"]  # "1 hour ago"
            else:
                # "Yesterday at 03:18 AM": the day from the title, the time shown.
                local = exact.attrs["title"] + " at " + shown.split(" at ", 1)[1]
        seller = author.find(lambda n: n.tag == "a").text()
        replies = cells[2].text()
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"]),
            "seller": seller,
            **date_fields(shown, local, UTC, mybb_date),
            "replies": None if replies in ("", "-") else replies,
        })
    return rows


def discuz_7(root, base):
    rows = []
    for tbody in root.find_all(
        lambda n: n.tag == "tbody" and re.fullmatch(r"(stick|normal)thread_\d+", n.attrs.get("id", ""))
    ):
        tid = tbody.attrs["id"].split("_")[1]
        link = tbody.find(lambda n: n.tag == "span" and n.attrs.get("id") == f"thread_{tid}").find(
            lambda n: n.tag == "a"
        )
        author = tbody.find(lambda n: n.tag == "td" and n.has_class("author"))
        date = author.find(lambda n: n.tag == "em").text()
        nums = tbody.find(lambda n: n.tag == "td" and n.has_class("nums"))
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"], "gbk"),
            "seller": author.find(lambda n: n.tag == "cite").text(),
            **date_fields(date, date, BEIJING, ymd),
            "replies": nums.find(lambda n: n.tag == "strong").text(),
        })
    return rows


def discuz_x3(root, base):
    table = root.find(lambda n: n.tag == "table" and n.attrs.get("id") == "threadlisttableid")
    rows = []
    for tbody in table.find_all(
        lambda n: n.tag == "tbody" and re.fullmatch(r"(stick|normal)thread_\d+", n.attrs.get("id", ""))
    ):
        link = tbody.find(lambda n: n.tag == "a" and n.has_class("xst"))
        by = tbody.find(lambda n: n.tag == "td" and n.has_class("by"))
        date = by.find(lambda n: n.tag == "em").text()
        num = tbody.find(lambda n: n.tag == "td" and n.has_class("num"))
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"]),
            "seller": by.find(lambda n: n.tag == "cite").text(),
            **date_fields(date, date, BEIJING, ymd),
            "replies": num.find(lambda n: n.tag == "a").text(),
        })
    return rows


def phpbb_eaglecraft(root, base):
    rows = []
    for tr in root.find_all(lambda n: n.tag == "tr"):
        link = tr.find(lambda n: n.tag == "a" and n.has_class("topictitle"))
        if link is None:
            continue
        desc = tr.find(lambda n: n.tag == "span" and n.has_class("forum-descriptions"))
        name = desc.find(
            lambda n: n.has_class("username-coloured") or n.has_class("username")
        )
        date = desc.text().split("»", 1)[1].strip()
        topics = tr.find(lambda n: n.tag == "td" and n.has_class("forumtopics"))
        bubble = topics.find(lambda n: n.has_class("statbubble")).find(lambda n: n.tag == "span")
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"]),
            "seller": name.text(),
            **date_fields(date, date, UTC, french_date),
            "replies": bubble.text(),
        })
    return rows


def smf_bitcointalk(root, base):
    rows = []
    for tr in root.find_all(lambda n: n.tag == "tr"):
        cells = tr.cells()
        spans = [
            (i, c.find(lambda n: n.tag == "span" and re.fullmatch(r"msg_\d+", n.attrs.get("id", ""))))
            for i, c in enumerate(cells)
        ]
        spans = [(i, s) for i, s in spans if s is not None]
        if not spans:
            continue
        i, span = spans[0]
        link = span.find(lambda n: n.tag == "a")
        rows.append({
            "title": link.text(),
            "url": canonical_url(base, link.attrs["href"]),
            "seller": cells[i + 1].text(),
            **date_fields(None, None, UTC, None),
            "replies": cells[i + 2].text(),
        })
    return rows


DATE = r"\d\d-\d\d-\d{4}, \d\d:\d\d [AP]M"


def mybb_index_date(text):
    # "06-29-2023, 07:09 AM"
    return datetime.strptime(text, "%m-%d-%Y, %I:%M %p")


def breachforums_index(root, base):
    """The index's links a crawl must follow: every forum (a.forums__forum-name
    and the sub-forum links in div.forums__forum-description, deduplicated:
    the theme repeats some categories) and every forum row's newest thread
    (the Thread-…?action=lastpost link with the title in its title attribute,
    the time in the span title below it)."""
    forums = []
    for a in root.find_all(
        lambda n: n.tag == "a" and (n.has_class("forums__forum-name") or (
            n.parent is not None and n.parent.has_class("forums__forum-description")))
    ):
        url = canonical_url(base, a.attrs["href"])
        if url not in forums:
            forums.append(url)
    threads = []
    for cell in root.find_all(lambda n: n.tag == "td" and n.has_class("forums__last-post")):
        link = cell.find(lambda n: n.tag == "a" and "title" in n.attrs and n.attrs["href"].startswith("Thread-"))
        if link is None:
            continue
        href = link.attrs["href"].split("?action=lastpost")[0]
        url = canonical_url(base, href)
        if any(t["url"] == url for t in threads):
            continue
        # A recent time is relative ("1 hour ago") with the exact one in a
        # span title; an older one is shown as is.
        when = cell.find(lambda n: n.tag == "span" and re.fullmatch(DATE, n.attrs.get("title", "")))
        day = cell.find(lambda n: n.tag == "span" and re.fullmatch(r"\d\d-\d\d-\d{4}", n.attrs.get("title", "")))
        if when is not None:
            shown, local = when.text(), when.attrs["title"]
        elif day is not None:
            # "Yesterday, 06:53 PM": the day from the title, the time shown.
            shown = re.search(r"Yesterday, \d\d:\d\d [AP]M", cell.text()).group(0)
            local = day.attrs["title"] + shown[len("Yesterday"):]
        else:
            shown = local = re.search(DATE, cell.text()).group(0)
        threads.append({
            "title": collapse(link.attrs["title"]),
            "url": url,
            **date_fields(shown, local, UTC, mybb_index_date),
        })
    return {"forums": forums, "threads": threads}


PAGES = {
    "anwang-2020/ea-10001-list.html": ("anwang-2020", "utf-8", anwang_2020),
    "raidforums/Forum-Leaks-Market.html": ("raidforums", "utf-8", raidforums),
    "discuz-1984bbs/forumdisplay-fid2.html": ("discuz-1984bbs", "gbk", discuz_7),
    "discuz-x3/forum-2-1.html": ("discuz-x3", "utf-8", discuz_x3),
    "phpbb-eaglecraft/viewforum-f2.html": ("phpbb-eaglecraft", "utf-8", phpbb_eaglecraft),
    "smf-bitcointalk/board-52.html": ("smf-bitcointalk", "iso-8859-1", smf_bitcointalk),
}


def page_url(label):
    return re.search(r"https?://\S+", label["url_guess"]).group(0)


def main():
    real = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_REAL
    with open(os.path.join(real, "labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    lists = [l for l in labels if l["page"] == "list"]
    missing = sorted(set(l["file"] for l in lists) ^ set(PAGES))
    if missing:
        sys.exit(f"labels.jsonl and this script disagree on the list pages: {missing}")
    for label in lists:
        name, charset, read = PAGES[label["file"]]
        with open(os.path.join(real, label["file"]), "rb") as f:
            text = f.read().decode(charset)
        rows = read(parse(text), page_url(label))
        if len(rows) != label["rows"]:
            sys.exit(f"{label['file']}: {len(rows)} rows read, labels.jsonl says {label['rows']}")
        shown = [r["title"] for r in rows]
        for want in label["first_titles"]:
            if want not in shown:
                sys.exit(f"{label['file']}: first title {want!r} not among the rows read")
        out = os.path.join(HERE, name + ".json")
        with open(out, "w", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{out}: {len(rows)} rows")
    index = next(l for l in labels if l["file"] == "breachforums/index.html")
    with open(os.path.join(real, index["file"]), encoding="utf-8") as f:
        links = breachforums_index(parse(f.read()), page_url(index))
    out = os.path.join(HERE, "breachforums-index.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(links, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{out}: {len(links['forums'])} forums, {len(links['threads'])} newest threads")


if __name__ == "__main__":
    main()
