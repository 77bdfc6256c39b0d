#!/usr/bin/env python3
"""Generate the leakwatch demo market: static HTML for three made-up sites, two
Telegram channel previews (and a channel without one) and a paste site.

Reads  listings.json               (every listing/post, its site, texts, expected alerts)
       ../watchlists/*.toml        (the example watchlists, for the self-check)
Writes site/<site>/*.html          (UTF-8 files; the demo server transcodes each page
                                    to its route's charset when serving)
       routes.json                 ({"routes": [{"path", "file", "charset"}],
                                    "redirects": [{"path", "to"}]})
       expected.json               (alerts the demo must raise, pages that must stay
                                    quiet, search probes)

Python 3.11+ standard library only. The output is deterministic: running it twice
gives byte-identical files. Then it checks itself and exits non-zero on any problem:
  * every page encodes in its served charset (GBK / Shift_JIS / UTF-8) and names it
    in <meta charset>;
  * every same-site link has a route or is a registered dead link (login /
    profile / posting pages; a paste's author and syntax archive), every route's
    file exists, every route is reachable from the seeds, every path in
    expected.json has a route or is a Telegram message's permalink (the
    https://t.me/ links of the previews are data the crawl never follows);
  * a small reference matcher (NFKC, case, kana and kanji-variant folding,
    confusables, separators, domains, sale cues) agrees with the expected alerts,
    conservatively: quiet pages that name a watched asset carry no trade-ish word
    at all, alerting pages have a cue near the term (or are priced listings) and
    name no other watched asset;
  * search probe words occur in exactly one page.

usage: python3 examples/demo-market/generate.py
"""
import datetime
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tomllib
import unicodedata
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SITE_DIR = os.path.join(HERE, "site")
WATCHLIST_DIR = os.path.normpath(os.path.join(HERE, "..", "watchlists"))
BASE = "http://demo.invalid"  # only used to resolve hrefs; never fetched

META_CHARSET = {"gbk": "gbk", "shift_jis": "Shift_JIS", "utf-8": "utf-8"}
SEEDS = ["/market/index.php", "/jp/board.cgi?page=1", "/forum/index.php",
         "/s/riben_zhanghu", "/s/kouza_ichiba", "/s/tokyo_kouza_vip", "/paste/archive"]
# Characters that legacy Japanese encoders disagree on (wave dash, tilde, yen...).
SJIS_FORBIDDEN = set("\\~\u00a5\u203e\u301c\uff5e\u2212\uff0d\u2016\u2225\u00ac\uffe2")

JST = datetime.timezone(datetime.timedelta(hours=9))

errors = []


def fail(msg):
    errors.append(msg)


def esc(s):
    return html.escape(s, quote=True)


def text_html(text):
    """Plain text with newlines -> escaped HTML lines joined by <br>."""
    return "<br>\n".join(esc(line) for line in text.split("\n"))


def stable_int(s, lo, hi):
    h = int(hashlib.sha1(s.encode("utf-8")).hexdigest()[:8], 16)
    return lo + h % (hi - lo)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S")


def t_market(d):
    return f"{d.year}年-{d.month}月-{d.day}日 {d:%H:%M}"


def t_jp(d):
    return f"{d:%Y/%m/%d}({'月火水木金土日'[d.weekday()]}) {d:%H:%M:%S}"


def t_forum(d):
    h = d.hour % 12 or 12
    return f"{d:%m-%d-%Y}, {h:02d}:{d:%M} {'AM' if d.hour < 12 else 'PM'}"


def resolve(page_path, href):
    """Resolve an (already unescaped) href against a page path -> (netloc, path?query)."""
    u = urlsplit(urljoin(BASE + page_path, href))
    return u.netloc, u.path + ("?" + u.query if u.query else "")


class Output:
    def __init__(self):
        self.routes = {}  # path -> (file, charset)
        self.pages = {}  # file -> html text
        self.dead = set()  # resolved paths of intentionally dead links
        self.redirects = {}  # path -> path it redirects to (302)
        self.permalinks = set()  # paths of Telegram messages' t.me permalinks (no route)

    def add(self, path, file, charset, text):
        assert path not in self.routes, f"duplicate route {path}"
        assert file not in self.pages, f"duplicate file {file}"
        self.routes[path] = (file, charset)
        self.pages[file] = text

    def redirect(self, path, to):
        assert path not in self.routes and path not in self.redirects, f"duplicate route {path}"
        self.redirects[path] = to

    def dead_link(self, page_path, href):
        """Register an intentionally dead link (login, profile, posting); returns href."""
        netloc, p = resolve(page_path, html.unescape(href))
        self.dead.add(p)
        return href


OUT = Output()

# --------------------------------------------------------------------------------------
# /market/ : phpBB (prosilver-derived) Chinese market, served as GBK
# --------------------------------------------------------------------------------------

MARKET_CSS = """body{font-family:Verdana,sans-serif;font-size:12px;background:#f5f7fa;color:#536482;margin:0}
.wrap{max-width:1152px;margin:0 auto;padding:15px;background:#fff;border:1px solid #e6e9ed}
.headerbar{background:#12a3eb;color:#fff;padding:5px;border-radius:7px}
.headerbar h1{margin:0;font-size:20px}.navbar{background:#cadceb;padding:3px 10px;border-radius:7px}
ul.linklist{list-style:none;margin:0;padding:0}ul.linklist li{display:inline;margin-right:8px}
ul.topiclist{list-style:none;margin:0;padding:0}ul.topiclist li.row{border-top:1px solid #fff;border-bottom:1px solid #00608f;padding:4px}
li.row.bg1{background:#ecf3f7}li.row.bg2{background:#e1ebf2}
.pagination{float:right;text-align:right}.pagination ul{display:inline;list-style:none;padding:0}.pagination li{display:inline;margin:0 2px}
.pagination li.active span{background:#4692bf;color:#fff;padding:2px 5px}
table.v_table_1,table.v_table_2,table.t_m_4,table.t_m_5{width:100%;border-collapse:collapse;margin:4px 0}
table.v_table_1 td,table.v_table_2 td{padding:3px;border-bottom:1px dotted #ccc}
.t_2{color:#bc2a4d;font-weight:bold}.t_red_b{color:red;font-weight:bold}.link_red{color:red}
div.post{padding:5px 10px;margin-bottom:4px;border-radius:7px}div.post.bg1{background:#ecf3f7}div.post.bg2{background:#e1ebf2}
dl.postprofile{float:left;width:150px;margin:0}div.postbody{margin-left:160px}
div.content{font-family:"Lucida Grande","Trebuchet MS",sans-serif;font-size:13px;line-height:1.4em;color:#333}
.sr-only{display:none}.copyright{text-align:center;padding:10px}"""

MARKET_HEADER_FORUMS = [(78, "数据"), (59, "账号"), (84, "技术"), (82, "实体"), (37, "其它")]


def market_page(mk, path, title, section, crumb_forum, content):
    name = mk["name"]
    fid = None
    crumbs = [
        '<span class="crumb" itemtype="http://data-vocabulary.org/Breadcrumb" itemscope="">'
        '<a href="./index.php" itemprop="url" accesskey="h" data-navbar-reference="index">'
        '<span itemprop="title">网站首页</span></a></span>'
    ]
    if crumb_forum is not None:
        fid, fname = crumb_forum
        crumbs.append(
            f'<span class="crumb" itemtype="http://data-vocabulary.org/Breadcrumb" itemscope="" data-forum-id="{fid}">'
            f'<a href="./viewforum.php?f={fid}" itemprop="url"><span itemprop="title">{esc(fname)}</span></a></span>'
        )
    sell_links = "&nbsp;|&nbsp;".join(
        f'<a href="./viewforum.php?f={f}" class="text_index_top">{esc(n)}</a>' for f, n in MARKET_HEADER_FORUMS
    )
    login = OUT.dead_link(path, "./ucp.php?mode=login")
    register = OUT.dead_link(path, "./ucp.php?mode=register")
    post_new = OUT.dead_link(path, "./posting.php?mode=post&amp;f=78")
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="zh-cmn-hans">
<head>
<meta charset="{META_CHARSET[mk['charset']]}">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} - {esc(name)}</title>
<!--
	phpBB style name: prosilver
	Based on style:   prosilver (this is the default phpBB3 style)
-->
<style>
{MARKET_CSS}
</style>
</head>
<body id="phpbb" class="nojs notouch section-{section} ltr ">
<div id="wrap" class="wrap">
	<a id="top" class="top-anchor" accesskey="t"></a>
	<div id="page-header">
		<div class="headerbar" role="banner">
			<div class="inner">
			<div id="site-description" class="site-description">
				<a id="logo" class="logo" href="./index.php" title="首页"><span class="site_logo"></span></a>
				<h1>{esc(name)}</h1>
				<p>{esc(mk['tagline'])}</p>
				<p class="skiplink"><a href="#start_here">跳到内容</a></p>
			</div>
			</div>
		</div>
		<div class="navbar" role="navigation">
		<div class="inner">
		<ul id="nav-main" class="nav-main linklist" role="menubar">
			<li id="quick-links" class="quick-links"><a href="./index.php"><span>快捷链接</span></a></li>
			<li class="rightside" data-skip-responsive="true"><a href="{login}" title="登录" accesskey="x" role="menuitem"><span>登录</span></a></li>
			<li class="rightside" data-skip-responsive="true"><a href="{register}" role="menuitem"><span>注册</span></a></li>
		</ul>
		<hr><table class="t_m_5"><tbody>
		<tr><td>功能</td><td>BTC:USD: {mk['btc_usd']}&nbsp;|&nbsp;<a href="{post_new}" class="text_index_top">发布新交易</a>&nbsp;|&nbsp;<a href="./viewforum.php?f=54" class="text_index_top">站务公告</a>&nbsp;|&nbsp;<a href="./index.php" class="text_p_link">返回首页</a></td></tr>
		<tr><td>分类</td><td>{sell_links}</td></tr>
		<tr><td>提示</td><td><a href="./viewtopic.php?t=10031" class="link_red">交易规则</a>&nbsp;|&nbsp;<span class="t_1">资金密码设置提醒</span></td></tr>
		</tbody></table><hr>
		<ul id="nav-breadcrumbs" class="nav-breadcrumbs linklist navlinks" role="menubar">
			<li class="breadcrumbs">
				{(chr(10) + '				').join(crumbs)}
			</li>
		</ul>
		</div>
		</div>
	</div>
	<a id="start_here" class="anchor"></a>
	<div id="page-body" class="page-body" role="main">
{content}
	</div>
	<div id="page-footer" class="page-footer" role="contentinfo">
		<div class="navbar" role="navigation"><div class="inner">
		<ul id="nav-footer" class="nav-footer linklist" role="menubar">
			<li class="breadcrumbs"><span class="crumb"><a href="./index.php" data-navbar-reference="index"><span>网站首页</span></a></span></li>
			<li class="rightside">所有显示的时间为 <span title="中国时间">UTC+08:00</span></li>
		</ul>
		</div></div>
		<div class="copyright">Powered by phpBB&reg; Forum Software &copy; phpBB Limited<br>简体中文语言包</div>
	</div>
</div>
</body>
</html>
"""


def market_pagination(fid, total, per_page, page_no, n_pages):
    if n_pages <= 1:
        return f'<div class="pagination">\n\t\t\t{total} 个主题\n\t\t\t&bull; 第 <strong>1</strong> 页 / 共 <strong>1</strong> 页\n\t\t</div>'

    def url(p):
        return f"./viewforum.php?f={fid}" + (f"&amp;start={p * per_page}" if p else "")

    items = []
    if page_no > 0:
        items.append(f'<li class="arrow previous"><a class="button button-icon-only" href="{url(page_no - 1)}" rel="prev" role="button"><i class="icon fa-chevron-left fa-fw" aria-hidden="true"></i><span class="sr-only">上一页</span></a></li>')
    for p in range(n_pages):
        if p == page_no:
            items.append(f'<li class="active"><span>{p + 1}</span></li>')
        else:
            items.append(f'<li><a class="button" href="{url(p)}" role="button">{p + 1}</a></li>')
    if page_no < n_pages - 1:
        items.append(f'<li class="arrow next"><a class="button button-icon-only" href="{url(page_no + 1)}" rel="next" role="button"><i class="icon fa-chevron-right fa-fw" aria-hidden="true"></i><span class="sr-only">下一页</span></a></li>')
    lis = "\n\t\t\t\t".join(items)
    return f"""<div class="pagination">
			{total} 个主题
			<ul>
				{lis}
			</ul>
		</div>"""


def market_usd(mk, btc):
    cents = round(float(btc) * float(mk["btc_usd"]) * 100)
    return f"{cents // 100}.{cents % 100:02d}"


def build_market(mk, listings):
    forums = {int(k): v for k, v in mk["forums"].items()}
    per_page = mk["topics_per_page"]
    by_forum = {f: [] for f in forums}
    for li in listings:
        by_forum[li["forum"]].append(li)
    for f in by_forum:
        by_forum[f].sort(key=lambda li: (last_activity(li), li["id"]), reverse=True)
    paths = {}

    # ---- topic pages ----
    for li in listings:
        tid = li["id"]
        f = li["forum"]
        forum = forums[f]
        path = f"/market/viewtopic.php?t={tid}"
        paths[id(li)] = path
        d = parse_time(li["time"])
        uid = stable_int(li["seller"], 20000, 60000)
        profile = OUT.dead_link(path, f"./memberlist.php?mode=viewprofile&amp;u={uid}")
        reply = OUT.dead_link(path, f"./posting.php?mode=reply&amp;t={tid}")
        trade = ""
        if forum["kind"] == "trade":
            buying = li["trade_type"] == "求购"
            remaining = li["quantity"] - li["sold"]
            joined = d - datetime.timedelta(days=stable_int(li["seller"], 30, 400))
            trade = f"""<div class="trade-panel">
	<hr><form method="post" action="./viewtopic.php?t={tid}"><table class="v_table_1" id="trade-info"><tbody>
	<tr><td colspan="7">主题帖交易信息一览</td></tr><tr><td colspan="7"></td></tr>
	<tr><td>交易编号:</td><td class="trade-id">{tid}</td><td>商品单价:</td><td class="trade-price"><span class="t_2">{li['price_btc']}</span>&nbsp;&nbsp;[BTC]</td><td>交易发布时间:</td><td class="trade-time">{t_market(d)}</td><td><a href="./viewtopic.php?t={tid}" class="text_index_top">刷新本页</a></td></tr>
	<tr><td colspan="7"></td></tr>
	<tr><td>交易类型:</td><td class="trade-type">{li['trade_type']}</td><td>约合美金:</td><td class="trade-usd">{market_usd(mk, li['price_btc'])}&nbsp;&nbsp;[美元]</td><td>投诉保护期限:</td><td>付款后 <span class="t_red_b">7</span> 天</td><td></td></tr>
	<tr><td colspan="7"></td></tr>
	<tr><td>交易状态:</td><td>{'求购中' if buying else '出售中'}</td><td>本单成交:</td><td>{li['sold']}</td><td>商品分类:</td><td class="trade-category">{esc(forum['name'])}</td><td></td></tr>
	<tr><td colspan="7"></td></tr>
	<tr><td>{'求购数量' if buying else '出售数量'}:</td><td>{li['quantity']}</td><td>剩余数量:</td><td>{remaining}</td><td>举报内容抄袭:</td><td><input name="v_t_complt_id" class="input_com" placeholder="被抄袭的交易编号" type="text"></td><td><input name="v_t_complt_sub" value="提 交" class="input_sumbit" type="submit"></td></tr>
	<tr><td colspan="7"></td></tr>
	</tbody></table></form>
	<table class="v_table_2" id="seller-info"><tbody>
	<tr><td colspan="7">发布者信息一览[当前粗略统计]</td></tr><tr><td colspan="7"></td></tr>
	<tr><td>账户名称:</td><td class="seller-name">{esc(li['seller'])}</td><td>在售单数:</td><td>{stable_int(li['seller'], 1, 9)}</td><td>强制撤诉单数:</td><td>0</td><td><a href="{profile}" class="text_index_top">呼叫发布人</a></td></tr>
	<tr><td colspan="7"></td></tr>
	<tr><td>账户编号:</td><td>{uid}</td><td>总出售额:</td><td>{stable_int(li['seller'] + 'v', 0, 40)}</td><td>强制退款单数:</td><td>0</td><td></td></tr>
	<tr><td colspan="7"></td></tr>
	<tr><td>注册时间</td><td>{joined:%Y-%m-%d}</td><td>总购买额:</td><td>0</td><td>强制退款总额:</td><td>0</td><td>右边后三项统计未完善, 实施过程中</td></tr>
	</tbody></table>
	<form method="post" action="./viewtopic.php?t={tid}"><table class="t_m_4" id="passpin-banner"><tbody>
	<tr><td colspan="2">您未设置资金密码, 为资金安全, 站内一切涉及资金动作, 均需出示资金密码, 请设置您的资金密码</td></tr>
	<tr><td>密码要求</td><td><span class="t_2">大小写字母与数字任意组合,8位以上,20位以下, 非字母与数字部分将被自动删除</span></td></tr>
	<tr><td>资金密码</td><td><input name="set_passpin1" class="input_text" type="password"></td></tr>
	<tr><td>再次输入</td><td><input name="set_passpin2" class="input_text" type="password"></td></tr>
	<tr><td></td><td><input name="set_passpin_sumbit" value="提 交" class="input_sumbit" type="submit"></td></tr>
	<tr><td>提示</td><td><span class="t_2">不是登录密码, 是付款购买,提币时用的资金密码</span></td></tr>
	</tbody></table></form><hr>
</div>"""
        posts = [(li["seller"], li["time"], li["title"], li["body"], True)]
        for r in li.get("replies", []):
            posts.append((r["author"], r["time"], "Re: " + li["title"], r["body"], False))
        post_html = []
        for i, (author, tm, ptitle, pbody, first) in enumerate(posts):
            pid = tid * 10 + i + 1
            pd = parse_time(tm)
            puid = stable_int(author, 20000, 60000)
            pprof = OUT.dead_link(path, f"./memberlist.php?mode=viewprofile&amp;u={puid}")
            quote = OUT.dead_link(path, f"./posting.php?mode=quote&amp;p={pid}")
            pm = OUT.dead_link(path, f"./ucp.php?i=pm&amp;mode=compose&amp;action=quotepost&amp;p={pid}")
            pjoined = pd - datetime.timedelta(days=stable_int(author, 30, 400))
            h3 = ' class="first"' if first else ""
            post_html.append(f"""		<div id="p{pid}" class="post has-profile {'bg2' if i % 2 == 0 else 'bg1'}">
		<div class="inner">
		<dl class="postprofile" id="profile{pid}">
			<dt class="no-profile-rank no-avatar">
				<strong><a href="{pprof}" class="username">{esc(author)}</a></strong>
			</dt>
			<dd class="profile-posts"><strong>帖子：</strong> {stable_int(author, 1, 80)}</dd>
			<dd class="profile-joined"><strong>注册时间：</strong> {t_market(pjoined)}</dd>
			<dd class="profile-contact"><strong>联系：</strong> <a href="{pm}" title="发送私信" class="last-cell"><span class="contact-icon pm-icon">发送私信</span></a></dd>
		</dl>
		<div class="postbody">
			<div id="post_content{pid}">
			<h3{h3}><a href="#p{pid}">{esc(ptitle)}</a></h3>
			<ul class="post-buttons">
				<li><a href="{quote}" title="引用回复" class="button button-icon-only"><i class="icon fa-quote-left fa-fw" aria-hidden="true"></i><span class="sr-only">引用</span></a></li>
			</ul>
			<p class="author"><span class="responsive-hide">由 <strong><a href="{pprof}" class="username">{esc(author)}</a></strong> &raquo; </span><time datetime="{(pd - datetime.timedelta(hours=8)):%Y-%m-%dT%H:%M:%S}+00:00">{t_market(pd)}</time></p>
			<div class="content">{text_html(pbody)}</div>
			</div>
		</div>
		<div class="back2top"><a href="#top" class="top" title="页首"><i class="icon fa-chevron-circle-up fa-fw icon-gray" aria-hidden="true"></i><span class="sr-only">页首</span></a></div>
		</div>
		</div>
		<hr class="divider">""")
        n = len(posts)
        pag = f'<div class="pagination">\n\t\t\t{n} 帖子\n\t\t\t&bull; 分页： <strong>1</strong> / <strong>1</strong>\n\t\t</div>'
        content = f"""<h2 class="topic-title"><a href="./viewtopic.php?t={tid}">{esc(li['title'])}</a></h2>
{trade}
	<div class="action-bar bar-top">
		<a href="{reply}" class="button" title="发表回复"><span>回复</span> <i class="icon fa-reply fa-fw" aria-hidden="true"></i></a>
		{pag}
	</div>
{chr(10).join(post_html)}
	<div class="action-bar bar-bottom">
		<a href="{reply}" class="button" title="发表回复"><span>回复</span> <i class="icon fa-reply fa-fw" aria-hidden="true"></i></a>
		{pag}
	</div>
	<div class="action-bar actions-jump">
		<p class="jumpbox-return"><a href="./viewforum.php?f={f}" class="left-box arrow-left" accesskey="r"><i class="icon fa-angle-left fa-fw icon-black" aria-hidden="true"></i><span>回到 “{esc(forum['name'])}”</span></a></p>
	</div>"""
        OUT.add(path, f"market/viewtopic-{tid}.html", mk["charset"],
                market_page(mk, path, li["title"], "viewtopic", (f, forum["name"]), content))

    # ---- forum pages ----
    for f, forum in forums.items():
        topics = by_forum[f]
        n_pages = max(1, -(-len(topics) // per_page))
        for p in range(n_pages):
            path = f"/market/viewforum.php?f={f}" + (f"&start={p * per_page}" if p else "")
            file = f"market/viewforum-{f}" + (f"-start-{p * per_page}" if p else "") + ".html"
            rows = []
            for i, li in enumerate(topics[p * per_page:(p + 1) * per_page]):
                d = parse_time(li["time"])
                uid = stable_int(li["seller"], 20000, 60000)
                prof = OUT.dead_link(path, f"./memberlist.php?mode=viewprofile&amp;u={uid}")
                last = last_post(li)
                luid = stable_int(last[0], 20000, 60000)
                lprof = OUT.dead_link(path, f"./memberlist.php?mode=viewprofile&amp;u={luid}")
                price = ""
                if forum["kind"] == "trade":
                    price = f'<span class="topic-price">[{li["price_btc"]} BTC]</span> '
                rows.append(f"""		<li class="row {'bg1' if i % 2 == 0 else 'bg2'}">
			<dl class="row-item topic_read">
				<dt title="没有未读帖子">
					<div class="list-inner">
						<a href="./viewtopic.php?t={li['id']}" class="topictitle">{esc(li['title'])}</a>
						<br>{price}<div class="topic-poster responsive-hide left-box">由 <a href="{prof}" class="username">{esc(li['seller'])}</a> &raquo; {t_market(d)}</div>
					</div>
				</dt>
				<dd class="posts">{len(li.get('replies', []))} <dfn>回复</dfn></dd>
				<dd class="views">{stable_int(str(li['id']), 20, 900)} <dfn>查看</dfn></dd>
				<dd class="lastpost"><span><dfn>最后发表 </dfn>由 <a href="{lprof}" class="username">{esc(last[0])}</a> <a href="./viewtopic.php?t={li['id']}" title="前往最新帖子">&raquo;</a><br>{t_market(parse_time(last[1]))}</span></dd>
			</dl>
		</li>""")
            pag = market_pagination(f, len(topics), per_page, p, n_pages)
            post_new = OUT.dead_link(path, f"./posting.php?mode=post&amp;f={f}")
            content = f"""<h2 class="forum-title"><a href="./viewforum.php?f={f}">{esc(forum['name'])}</a></h2>
	<div><div style="display: none !important;">{esc(forum['desc'])}<br></div></div>
	<div class="action-bar bar-top">
		<a href="{post_new}" class="button" title="发表新帖"><span>发表新帖</span> <i class="icon fa-pencil fa-fw" aria-hidden="true"></i></a>
		{pag}
	</div>
	<div class="forumbg">
	<div class="inner">
	<ul class="topiclist">
		<li class="header">
			<dl class="row-item">
				<dt><div class="list-inner">主题</div></dt>
				<dd class="posts">回复</dd>
				<dd class="views">查看</dd>
				<dd class="lastpost"><span>最后发表</span></dd>
			</dl>
		</li>
	</ul>
	<ul class="topiclist topics">
{chr(10).join(rows)}
	</ul>
	</div>
	</div>
	<div class="action-bar bar-bottom">
		{pag}
	</div>"""
            title = forum["name"] + (f" - 第 {p + 1} 页" if p else "")
            OUT.add(path, file, mk["charset"], market_page(mk, path, title, "viewforum", (f, forum["name"]), content))

    # ---- index ----
    path = "/market/index.php"
    blocks = []
    for cat in mk["categories"]:
        rows = []
        for f in cat["forums"]:
            forum = forums[f]
            topics = by_forum[f]
            n_posts = sum(1 + len(li.get("replies", [])) for li in topics)
            latest = topics[0]
            last = last_post(latest)
            luid = stable_int(last[0], 20000, 60000)
            lprof = OUT.dead_link(path, f"./memberlist.php?mode=viewprofile&amp;u={luid}")
            rows.append(f"""		<li class="row">
			<dl class="row-item forum_read">
				<dt title="没有未读帖子">
					<div class="list-inner">
						<a href="./viewforum.php?f={f}" class="forumtitle">{esc(forum['name'])}</a>
						<br>{esc(forum['desc'])}
					</div>
				</dt>
				<dd class="topics">{len(topics)} <dfn>主题</dfn></dd>
				<dd class="posts">{n_posts} <dfn>帖子</dfn></dd>
				<dd class="lastpost"><span><dfn>最后发表 </dfn><a href="./viewtopic.php?t={latest['id']}" title="{esc(latest['title'])}" class="lastsubject">{esc(latest['title'])}</a><br>由 <a href="{lprof}" class="username">{esc(last[0])}</a><br>{t_market(parse_time(last[1]))}</span></dd>
			</dl>
		</li>""")
        blocks.append(f"""	<div class="forabg">
	<div class="inner">
	<ul class="topiclist">
		<li class="header">
			<dl class="row-item">
				<dt><div class="list-inner">{esc(cat['name'])}</div></dt>
				<dd class="topics">主题</dd>
				<dd class="posts">帖子</dd>
				<dd class="lastpost"><span>最后发表</span></dd>
			</dl>
		</li>
	</ul>
	<ul class="topiclist forums">
{chr(10).join(rows)}
	</ul>
	</div>
	</div>""")
    n_topics = len(listings)
    n_posts = sum(1 + len(li.get("replies", [])) for li in listings)
    content = f"""<p class="right responsive-center time">现在的时间是 2026年-11月-21日 08:00</p>
{chr(10).join(blocks)}
	<div class="stat-block statistics">
		<h3>统计</h3>
		<p>帖子总数 <strong>{n_posts}</strong> &bull; 主题总数 <strong>{n_topics}</strong></p>
	</div>"""
    OUT.add(path, "market/index.html", mk["charset"], market_page(mk, path, "首页", "index", None, content))
    return paths


def last_activity(li):
    times = [li["time"]] + [r["time"] for r in li.get("replies", [])]
    return max(times)


def last_post(li):
    posts = [(li["seller"], li["time"])] + [(r["author"], r["time"]) for r in li.get("replies", [])]
    return max(posts, key=lambda x: x[1])


# --------------------------------------------------------------------------------------
# /jp/ : 2ch/5ch-like BBS, served as Shift_JIS
# --------------------------------------------------------------------------------------

JP_CSS = """body{background:#efefef;color:#000;font-family:sans-serif;margin:0 8px}
h1.board-title,h1.title{color:#c00;font-size:20px}
ul.thread-list{list-style:none;padding:0}ul.thread-list li{padding:2px 0}
div.post{margin:0 0 12px}div.meta{font-size:13px}span.name{color:green}
div.message{margin-left:24px}div.pager{margin:8px 0}div.pager a,div.pager span{margin-right:6px}"""


def jp_key(li):
    d = parse_time(li["time"]).replace(tzinfo=JST)
    return int(d.timestamp())


def jp_uid(seed):
    h = hashlib.sha1(seed.encode("utf-8")).hexdigest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
    return "".join(alphabet[int(h[i:i + 2], 16) % len(alphabet)] for i in range(0, 16, 2))


def jp_doc(js, title, body):
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="{META_CHARSET[js['charset']]}">
<meta name="viewport" content="width=device-width">
<title>{esc(title)}</title>
<style>
{JP_CSS}
</style>
</head>
<body>
{body}
<div id="footer"><hr><span class="engine">read.cgi ver 07.7.21 2026/06/01</span> <span class="site-name">{esc(js['name'])}</span></div>
</body>
</html>
"""


def build_jp(js, listings):
    per_page = js["threads_per_page"]
    threads = sorted(listings, key=lambda li: (last_activity(li), jp_key(li)), reverse=True)
    paths = {}
    keys = set()
    for li in listings:
        key = jp_key(li)
        if key in keys:
            fail(f"jp: duplicate thread key {key}")
        keys.add(key)
        path = f"/jp/read.cgi?key={key}"
        paths[id(li)] = path
        posts = [(li["seller"], li["time"], li["body"])] + [(r["author"], r["time"], r["body"]) for r in li.get("replies", [])]
        ph = []
        for i, (author, tm, body) in enumerate(posts):
            n = i + 1
            uid = jp_uid(f"{key}/{n}/{author}/{tm[:10]}")
            ph.append(f"""<div class="post" id="{n}" data-res="{n}" data-userid="ID:{uid}"><div class="meta"><span class="number">{n}</span> <span class="name"><b>{esc(author)}</b></span> <span class="date">{t_jp(parse_time(tm))}</span> <span class="uid">ID:{uid}</span></div><div class="message"><span class="escaped">{text_html(body)}</span></div></div>""")
        write = OUT.dead_link(path, "./bbs.cgi")
        body = f"""<div id="thread-header">
<div class="board-name"><a href="./board.cgi?page=1">■掲示板に戻る■</a> <a href="./board.cgi?page=1" class="board-link">{esc(js['board'])}</a></div>
<h1 class="title">{esc(li['title'])}</h1>
</div>
<div class="thread" data-key="{key}">
{chr(10).join(ph)}
</div>
<div id="thread-footer"><span class="res-total">{len(posts)}コメント</span> <a href="./board.cgi?page=1">■掲示板に戻る■</a></div>
<form method="post" action="{write}" class="reply-form">
<input type="hidden" name="key" value="{key}">
名前：<input type="text" name="FROM" size="19"> E-mail：<input type="text" name="mail" size="19"><br>
<textarea rows="5" cols="70" name="MESSAGE"></textarea><br>
<input type="submit" value="書き込む">
</form>"""
        OUT.add(path, f"jp/read-{key}.html", js["charset"], jp_doc(js, li["title"], body))

    n_pages = max(1, -(-len(threads) // per_page))
    for p in range(n_pages):
        page_no = p + 1
        path = f"/jp/board.cgi?page={page_no}"
        items = []
        for i, li in enumerate(threads[p * per_page:(p + 1) * per_page]):
            n = p * per_page + i + 1
            key = jp_key(li)
            items.append(f'<li class="thread-item"><span class="thread-no">{n}:</span> <a class="thread-link" href="./read.cgi?key={key}">{esc(li["title"])}</a> <span class="res-count">({1 + len(li.get("replies", []))})</span> <span class="thread-date">{parse_time(li["time"]):%Y/%m/%d}</span></li>')
        pager = []
        if page_no > 1:
            pager.append(f'<a class="page-prev" href="./board.cgi?page={page_no - 1}" rel="prev">&lt; 前の{per_page}件</a>')
        for q in range(1, n_pages + 1):
            if q == page_no:
                pager.append(f'<span class="page-current">{q}</span>')
            else:
                pager.append(f'<a class="page-link" href="./board.cgi?page={q}">{q}</a>')
        if page_no < n_pages:
            pager.append(f'<a class="page-next" href="./board.cgi?page={page_no + 1}" rel="next">次の{per_page}件 &gt;</a>')
        pager_html = '<div class="pager">' + " ".join(pager) + "</div>"
        login = OUT.dead_link(path, "./login.cgi")
        body = f"""<div id="board-header">
<h1 class="board-title"><a href="./board.cgi?page=1">{esc(js['board'])}</a></h1>
<p class="board-desc">{esc(js['desc'])}</p>
<div class="board-menu"><a href="./board.cgi?page=1">スレッド一覧</a> | <a href="{login}">ログイン</a></div>
</div>
{pager_html}
<ul class="thread-list">
{chr(10).join(items)}
</ul>
{pager_html}"""
        title = f"{js['board']}＠{js['name']}" + (f" ({page_no}ページ目)" if page_no > 1 else "")
        OUT.add(path, f"jp/board-{page_no}.html", js["charset"], jp_doc(js, title, body))
    return paths


# --------------------------------------------------------------------------------------
# /forum/ : MyBB English/Russian forum, served as UTF-8
# --------------------------------------------------------------------------------------

FORUM_CSS = """body{background:#fff;color:#333;font-family:Tahoma,Verdana,Arial,sans-serif;font-size:13px;margin:0}
#container{margin:auto;width:auto}.wrapper{width:85%;min-width:970px;max-width:1500px;margin:auto}
#header #logo{background:#202020;padding:10px 0}#header #logo a{color:#fff;font-size:24px;text-decoration:none}
table.tborder{background:#fff;width:100%;margin:auto;border:1px solid #ccc;padding:1px;border-collapse:separate}
.thead{background:#0066a2;color:#fff;padding:8px}.thead a{color:#fff}.tcat{background:#0f0f0f;color:#fff;padding:6px}
.trow1{background:#f5f5f5;border:1px solid #fff}.trow2{background:#efefef;border:1px solid #fff}
.smalltext{font-size:11px}.largetext{font-size:16px;font-weight:bold}.navigation{padding:10px 0}
.pagination{font-size:11px;padding:10px 0 2px}.pagination a{padding:3px 6px;border:1px solid #ccc;background:#f5f5f5}
.pagination .pagination_current{padding:3px 6px;font-weight:bold}
.post{border:1px solid #ccc;margin-bottom:10px}.post .post_author{background:#efefef;padding:5px 8px}
.post .post_head{padding:6px 0}.post_date{color:#666;font-size:11px}.post .post_body{padding:5px 8px}
.float_left{float:left}.float_right{float:right}.clear{clear:both}"""


def forum_doc(fs, path, title, nav, content):
    login = OUT.dead_link(path, "member.php?action=login")
    register = OUT.dead_link(path, "member.php?action=register")
    search = OUT.dead_link(path, "search.php")
    members = OUT.dead_link(path, "memberlist.php")
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xml:lang="en" lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="{META_CHARSET[fs['charset']]}">
<title>{esc(title)}</title>
<style type="text/css">
{FORUM_CSS}
</style>
</head>
<body>
<div id="container">
	<a name="top" id="top"></a>
	<div id="header">
		<div id="logo">
			<div class="wrapper">
				<a href="index.php"><span class="logo-text">{esc(fs['name'])}</span></a>
				<ul class="menu top_links">
					<li><a href="{search}" class="search">Search</a></li>
					<li><a href="{members}" class="memberlist">Member List</a></li>
				</ul>
			</div>
		</div>
		<div id="panel">
			<div class="upper">
				<div class="wrapper">
					<span class="welcome">Hello There, Guest! <a href="{login}" class="login">Login</a> <a href="{register}" class="register">Register</a></span>
				</div>
			</div>
		</div>
	</div>
	<div id="content">
		<div class="wrapper">
<div class="navigation">
{nav}
</div>
<br />
{content}
		</div>
	</div>
	<div id="footer">
		<div class="lower">
			<div class="wrapper">
				<span id="copyright">Powered By MyBB, &copy; 2002-2026 MyBB Group.</span>
			</div>
		</div>
	</div>
</div>
</body>
</html>
"""


def build_forum(fs, listings):
    forums = {int(k): v for k, v in fs["forums"].items()}
    per_page = fs["threads_per_page"]
    by_forum = {f: [] for f in forums}
    for li in listings:
        by_forum[li["forum"]].append(li)
    for f in by_forum:
        by_forum[f].sort(key=lambda li: (last_activity(li), li["id"]), reverse=True)
    paths = {}
    home = f'<a href="index.php">{esc(fs["name"])}</a>'

    for li in listings:
        tid = li["id"]
        f = li["forum"]
        path = f"/forum/showthread.php?tid={tid}"
        paths[id(li)] = path
        posts = [(li["seller"], li["time"], li["body"])] + [(r["author"], r["time"], r["body"]) for r in li.get("replies", [])]
        ph = []
        for i, (author, tm, body) in enumerate(posts):
            pid = tid * 10 + i + 1
            uid = stable_int(author, 2, 900)
            prof = OUT.dead_link(path, f"member.php?action=profile&amp;uid={uid}")
            quote = OUT.dead_link(path, f"newreply.php?tid={tid}&amp;replyto={pid}")
            joined = parse_time(tm) - datetime.timedelta(days=stable_int(author, 30, 700))
            ph.append(f"""<div class="post classic" style="" id="post_{pid}">
<div class="post_author scaleimages">
	<div class="author_information">
		<strong><span class="largetext"><a href="{prof}">{esc(author)}</a></span></strong><br />
		<span class="smalltext">Member<br /></span>
	</div>
	<div class="author_statistics">
		Posts: {stable_int(author, 1, 300)}<br />
		Threads: {stable_int(author + 't', 1, 40)}<br />
		Joined: {joined:%b %Y}<br />
		Reputation: {stable_int(author + 'r', 0, 30)}
	</div>
</div>
<div class="post_content">
	<div class="post_head">
		<div class="float_right" style="vertical-align: top"><strong><a href="#pid{pid}" title="{esc(li['title'])}">#{i + 1}</a></strong></div>
		<span class="post_date">{t_forum(parse_time(tm))}</span>
	</div>
	<div class="post_body scaleimages" id="pid_{pid}">
		{text_html(body)}
	</div>
</div>
<div class="post_controls">
	<div class="postbit_buttons author_buttons float_left"><a href="{prof}" class="postbit_profile"><span>Profile</span></a></div>
	<div class="postbit_buttons post_management_buttons float_right"><a href="{quote}" class="postbit_quote"><span>Reply</span></a></div>
</div>
</div>""")
        reply = OUT.dead_link(path, f"newreply.php?tid={tid}")
        nav = f'{home}\n&rsaquo; <a href="forumdisplay.php?fid={f}">{esc(forums[f]["name"])}</a>\n&rsaquo; <span class="active">{esc(li["title"])}</span>'
        content = f"""<div class="float_right"><a href="{reply}" class="button new_reply_button"><span>New Reply</span></a></div>
<table border="0" cellspacing="0" cellpadding="5" class="tborder tfixed clear">
	<tr>
		<td class="thead">
			<div><strong>{esc(li['title'])}</strong></div>
		</td>
	</tr>
	<tr><td class="tcat"><span class="smalltext"><strong>Threaded Mode | Linear Mode</strong></span></td></tr>
</table>
<div id="posts">
{chr(10).join(ph)}
</div>
<form method="post" action="{reply}" name="quick_reply_form" id="quick_reply_form">
	<input type="hidden" name="action" value="do_newreply" />
	<input type="hidden" name="tid" value="{tid}" />
	<textarea name="message" rows="8" cols="80" tabindex="1"></textarea>
	<input type="submit" class="button" value="Post Reply" tabindex="2" />
</form>"""
        OUT.add(path, f"forum/showthread-{tid}.html", fs["charset"],
                forum_doc(fs, path, li["title"], nav, content))

    for f, forum in forums.items():
        threads = by_forum[f]
        n_pages = max(1, -(-len(threads) // per_page))
        for p in range(n_pages):
            page_no = p + 1
            path = f"/forum/forumdisplay.php?fid={f}" + (f"&page={page_no}" if p else "")
            file = f"forum/forumdisplay-{f}" + (f"-page-{page_no}" if p else "") + ".html"

            def url(q):
                return f"forumdisplay.php?fid={f}" + (f"&amp;page={q}" if q > 1 else "")

            pag = ""
            if n_pages > 1:
                parts = [f'<span class="pages">Pages ({n_pages}):</span>']
                if page_no > 1:
                    parts.append(f'<a href="{url(page_no - 1)}" class="pagination_previous">&laquo; Previous</a>')
                for q in range(1, n_pages + 1):
                    if q == page_no:
                        parts.append(f'<span class="pagination_current">{q}</span>')
                    else:
                        parts.append(f'<a href="{url(q)}" class="pagination_page">{q}</a>')
                if page_no < n_pages:
                    parts.append(f'<a href="{url(page_no + 1)}" class="pagination_next">Next &raquo;</a>')
                pag = '<div class="pagination">\n' + "\n".join(parts) + "\n</div>"
            rows = []
            for i, li in enumerate(threads[p * per_page:(p + 1) * per_page]):
                tid = li["id"]
                uid = stable_int(li["seller"], 2, 900)
                prof = OUT.dead_link(path, f"member.php?action=profile&amp;uid={uid}")
                last = last_post(li)
                lprof = OUT.dead_link(path, f"member.php?action=profile&amp;uid={stable_int(last[0], 2, 900)}")
                trow = "trow1" if i % 2 == 0 else "trow2"
                rows.append(f"""<tr class="inline_row">
	<td align="center" class="{trow} forumdisplay_regular" width="2%"><span class="thread_status newfolder" title="New posts.">&nbsp;</span></td>
	<td class="{trow} forumdisplay_regular">
		<div>
			<span> <span class=" subject_new" id="tid_{tid}"><a href="showthread.php?tid={tid}">{esc(li['title'])}</a></span></span>
			<div class="author smalltext"><a href="{prof}">{esc(li['seller'])}</a></div>
		</div>
	</td>
	<td align="center" class="{trow} forumdisplay_regular">{len(li.get('replies', []))}</td>
	<td align="center" class="{trow} forumdisplay_regular">{stable_int(str(tid), 15, 2000)}</td>
	<td class="{trow} forumdisplay_regular" style="white-space: nowrap; text-align: right;">
		<span class="lastpost smalltext">{t_forum(parse_time(last[1]))}<br />
		<a href="showthread.php?tid={tid}">Last Post</a>: <a href="{lprof}">{esc(last[0])}</a></span>
	</td>
</tr>""")
            new_thread = OUT.dead_link(path, f"newthread.php?fid={f}")
            nav = f'{home}\n&rsaquo; <span class="active">{esc(forum["name"])}</span>'
            content = f"""<div class="float_left">
{pag}
</div>
<div class="float_right"><a href="{new_thread}" class="button new_thread_button"><span>Post Thread</span></a></div>
<table border="0" cellspacing="0" cellpadding="5" class="tborder clear">
	<tr>
		<td class="thead" colspan="5"><div><strong>{esc(forum['name'])}</strong></div></td>
	</tr>
	<tr>
		<td class="tcat" colspan="2" width="66%"><span class="smalltext"><strong>Thread / Author</strong></span></td>
		<td class="tcat" align="center" width="7%"><span class="smalltext"><strong>Replies</strong></span></td>
		<td class="tcat" align="center" width="7%"><span class="smalltext"><strong>Views</strong></span></td>
		<td class="tcat" align="right" width="20%"><span class="smalltext"><strong>Last Post</strong></span></td>
	</tr>
{chr(10).join(rows)}
</table>
<div class="float_left">
{pag}
</div>"""
            title = f"{fs['name']} - {forum['name']}" + (f" - Page {page_no}" if p else "")
            OUT.add(path, file, fs["charset"], forum_doc(fs, path, title, nav, content))

    path = "/forum/index.php"
    tables = []
    for cat in fs["categories"]:
        rows = []
        for i, f in enumerate(cat["forums"]):
            forum = forums[f]
            threads = by_forum[f]
            latest = threads[0]
            last = last_post(latest)
            lprof = OUT.dead_link(path, f"member.php?action=profile&amp;uid={stable_int(last[0], 2, 900)}")
            trow = "trow1" if i % 2 == 0 else "trow2"
            rows.append(f"""<tr>
	<td class="{trow}" align="center" valign="top" width="1"><span class="forum_status forum_on" title="New Posts"></span></td>
	<td class="{trow}" valign="top">
		<strong><a href="forumdisplay.php?fid={f}">{esc(forum['name'])}</a></strong><div class="smalltext">{esc(forum['desc'])}</div>
	</td>
	<td class="{trow}" valign="top" align="center" style="white-space: nowrap">{len(threads)}</td>
	<td class="{trow}" valign="top" align="center" style="white-space: nowrap">{sum(1 + len(li.get('replies', [])) for li in threads)}</td>
	<td class="{trow}" valign="top" align="right" style="white-space: nowrap"><span class="smalltext">
		<a href="showthread.php?tid={latest['id']}" title="{esc(latest['title'])}"><strong>{esc(latest['title'])}</strong></a>
		<br />{t_forum(parse_time(last[1]))}<br />by <a href="{lprof}">{esc(last[0])}</a></span>
	</td>
</tr>""")
        tables.append(f"""<table border="0" cellspacing="0" cellpadding="5" class="tborder">
<thead>
	<tr>
		<td class="thead" colspan="5"><div><strong>{esc(cat['name'])}</strong><br /><div class="smalltext"></div></div></td>
	</tr>
</thead>
<tbody>
	<tr>
		<td class="tcat" colspan="2"><span class="smalltext"><strong>Forum</strong></span></td>
		<td class="tcat" width="85" align="center" style="white-space: nowrap"><span class="smalltext"><strong>Threads</strong></span></td>
		<td class="tcat" width="85" align="center" style="white-space: nowrap"><span class="smalltext"><strong>Posts</strong></span></td>
		<td class="tcat" width="200" align="center"><span class="smalltext"><strong>Last Post</strong></span></td>
	</tr>
{chr(10).join(rows)}
</tbody>
</table>
<br />""")
    nav = f'<span class="active">{esc(fs["name"])}</span>'
    OUT.add(path, "forum/index.html", fs["charset"], forum_doc(fs, path, fs["name"], nav, "\n".join(tables)))
    return paths


# --------------------------------------------------------------------------------------
# /s/<channel> : Telegram channel previews in t.me's markup (served as UTF-8 on the
# demo's host root, as t.me serves them), and a channel without a public preview
# --------------------------------------------------------------------------------------

TG_CSS = """body{font-family:'Roboto',-apple-system,sans-serif;background:#e6ebee;margin:0}
.tgme_header{background:#fff;padding:10px 16px;border-bottom:1px solid #dfe1e5}
.tgme_channel_info_header_title{font-weight:bold;font-size:16px}
.tgme_main{max-width:720px;margin:0 auto;padding:10px}
.tgme_widget_message_wrap{padding:6px 0}.tgme_widget_message_bubble{background:#fff;border-radius:10px;padding:8px 12px}
.tgme_widget_message_author{font-weight:bold;color:#3a8dda}.tgme_widget_message_text{line-height:1.4;white-space:normal}
.tgme_widget_message_info{text-align:right;color:#a0acb6;font-size:12px}.copyonly{display:none}
.tgme_widget_message_centered{text-align:center;padding:8px}.tme_messages_more{display:inline-block;width:32px;height:32px}
.tgme_page{max-width:360px;margin:40px auto;background:#fff;border-radius:10px;padding:24px;text-align:center}
.tgme_page_title{font-size:20px;font-weight:bold}.tgme_page_extra{color:#868b8f}"""


def tg_time(li):
    return parse_time(li["time"]).replace(tzinfo=datetime.timezone.utc)


def tg_doc(title, body, og_title):
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{esc(title)} – Telegram</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0, minimum-scale=1.0, maximum-scale=1.0, user-scalable=no">
<meta property="og:title" content="{esc(og_title)}">
<meta property="og:site_name" content="Telegram">
<style>
{TG_CSS}
</style>
</head>
{body}
</html>
"""


def tg_message(ch, info, li):
    n = li["number"]
    d = tg_time(li)
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{ch}/{n}">
  <div class="tgme_widget_message_user"><a href="https://t.me/{ch}"><i class="tgme_widget_message_user_photo bgcolor{n % 7}" data-content="{esc(info['title'][0])}"></i></a></div>
  <div class="tgme_widget_message_bubble">
    <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{ch}"><span dir="auto">{esc(info['title'])}</span></a></div>
    <div class="tgme_widget_message_text js-message_text" dir="auto">{text_html(li['body'])}</div>
    <div class="tgme_widget_message_footer compact js-message_footer">
      <div class="tgme_widget_message_info short js-message_info">
        <span class="tgme_widget_message_views">{esc(li['views'])}</span><span class="copyonly"> views</span><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{ch}/{n}"><time datetime="{d.isoformat()}" class="time">{d:%H:%M}</time></a></span>
      </div>
    </div>
  </div>
</div></div>"""


def build_telegram(ts, listings):
    """One preview per channel (the newest messages_per_page messages at /s/<ch>, older
    ones at /s/<ch>?before=N, N the lowest message the newer page shows), and for each
    channel without a preview a redirect from /s/<ch> to its landing page /<ch>."""
    per_page = ts["messages_per_page"]
    paths = {}
    for ch, info in ts["channels"].items():
        msgs = sorted((li for li in listings if li["channel"] == ch), key=lambda li: li["number"])
        if not msgs:
            fail(f"telegram: channel {ch} has no messages")
            continue
        for a, b in zip(msgs, msgs[1:]):
            if b["number"] <= a["number"] or tg_time(b) <= tg_time(a):
                fail(f"telegram: {ch}/{b['number']} is not newer than {ch}/{a['number']}")
        for li in msgs:
            # A message's document URL is its permalink (the reader takes the date
            # link), so expected.json names it by that path.
            paths[id(li)] = f"/{ch}/{li['number']}"
            OUT.permalinks.add(paths[id(li)])
        pages = [msgs[max(0, end - per_page):end] for end in range(len(msgs), 0, -per_page)]
        for i, page in enumerate(pages):
            path = f"/s/{ch}" if i == 0 else f"/s/{ch}?before={pages[i - 1][0]['number']}"
            more = ""
            if i + 1 < len(pages):
                lowest = page[0]["number"]
                more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap">'
                        f'<a href="/s/{ch}?before={lowest}" class="tme_messages_more js-messages_more" data-before="{lowest}"></a></div>')
            body = f"""<body class="widget_frame_base tgme_webpreview_body">
<header class="tgme_header search_collapsed">
  <div class="tgme_header_info">
    <div class="tgme_channel_info_header_title"><span dir="auto">{esc(info['title'])}</span></div>
    <div class="tgme_channel_info_header_username"><a href="https://t.me/{ch}">@{ch}</a></div>
  </div>
</header>
<main class="tgme_main">
<section class="tgme_channel_history js-message_history">
{more}{chr(10).join(tg_message(ch, info, li) for li in page)}
</section>
<div class="tgme_channel_info">
  <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">{esc(info['subscribers'].split()[0])}</span> <span class="counter_type">subscribers</span></div><div class="tgme_channel_info_counter"><span class="counter_value">{esc(info['photos'].split()[0])}</span> <span class="counter_type">photos</span></div></div>
  <div class="tgme_channel_info_description">{text_html(info['description'])}</div>
</div>
</main>
</body>"""
            suffix = "" if i == 0 else f"-before-{pages[i - 1][0]['number']}"
            OUT.add(path, f"telegram/{ch}{suffix}.html", ts["charset"], tg_doc(info["title"], body, info["title"]))
    for ch, info in ts["no_preview"].items():
        OUT.redirect(f"/s/{ch}", f"/{ch}")
        body = f"""<body class="tgme_body">
<div class="tgme_page_wrap">
  <div class="tgme_head_wrap"><div class="tgme_head"><span class="tgme_head_brand">Telegram</span></div></div>
  <div class="tgme_body_wrap">
    <div class="tgme_page">
      <div class="tgme_page_photo"><a href="tg://resolve?domain={ch}"><i class="tgme_page_photo_image bgcolor3" data-content="{esc(info['title'][0])}"></i></a></div>
      <div class="tgme_page_title"><span dir="auto">{esc(info['title'])}</span></div>
      <div class="tgme_page_extra">{esc(info['subscribers'])}</div>
      <div class="tgme_page_description" dir="auto">{text_html(info['description'])}</div>
      <div class="tgme_page_action"><a class="tgme_action_button_new shine" href="tg://resolve?domain={ch}">View in Telegram</a></div>
    </div>
  </div>
</div>
</body>"""
        OUT.add(f"/{ch}", f"telegram/landing-{ch}.html", ts["charset"],
                tg_doc(f"Telegram: View @{ch}", body, info["title"]))
    return paths


# --------------------------------------------------------------------------------------
# /paste/ : a paste site in pastebin's markup (archive, paste pages, raw text), UTF-8
# --------------------------------------------------------------------------------------

PASTE_CSS = """body{font-family:'Open Sans',Arial,sans-serif;font-size:13px;background:#fff;color:#333;margin:0}
.header{background:#02456c;color:#fff;padding:8px 16px}.header a{color:#fff}.container{max-width:1100px;margin:0 auto}
.content{float:left;width:75%}.sidebar{float:right;width:23%}.info-top h1{font-size:18px;margin:8px 0}
.info-bottom div{display:inline-block;margin-right:12px;color:#888}.top-buttons{background:#f5f5f5;padding:4px;overflow:hidden}
.top-buttons .left{float:left}.top-buttons .right{float:right}.source ol{font-family:Consolas,monospace;background:#fafafa}
table.maintable{width:100%;border-collapse:collapse}table.maintable td,table.maintable th{padding:4px;border-bottom:1px solid #eee;text-align:left}"""


def paste_date(d):
    day = d.day
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    h = d.hour % 12 or 12
    return f"{d:%A} {day}{suffix} of {d:%B %Y} {h:02d}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'} UTC", f"{d:%b} {day}{suffix}, {d.year}"


def paste_doc(ps, path, title, content, pastes):
    login = OUT.dead_link(path, "/paste/login")
    side = "\n".join(
        f'        <li><a href="/paste/{li["key"]}">{esc(li["title"])}</a><div class="details">{esc(li["syntax"])} | {parse_time(li["time"]):%H:%M} UTC</div></li>'
        for li in pastes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=0.75, maximum-scale=5.0, user-scalable=yes">
<title>{esc(title)} - {esc(ps['name'])}</title>
<meta property="og:title" content="{esc(title)} - {esc(ps['name'])}">
<meta property="og:site_name" content="{esc(ps['name'])}">
<style>
{PASTE_CSS}
</style>
</head>
<body>
<div class="wrap">
<div class="header"><div class="container"><div class="header__left"><a class="header__logo" href="/paste/archive">{esc(ps['name'])}</a></div>
<div class="header__right"><div class="header_sign"><a href="{login}" class="btn-sign sign-in">Login</a></div></div></div></div>
<div class="container">
<div class="content">
{content}
</div>
<div class="sidebar h_1024">
    <div class="sidebar__title"><a href="/paste/archive">Public Pastes</a></div>
    <ul class="sidebar__menu">
{side}
    </ul>
</div>
</div>
</div>
</body>
</html>
"""


def build_paste(ps, listings):
    """The archive of recent pastes (/paste/archive), one page per paste (/paste/KEY)
    and its raw text (/paste/raw/KEY, text/plain)."""
    paths = {}
    pastes = sorted(listings, key=lambda li: li["time"], reverse=True)
    for li in pastes:
        key = li["key"]
        if not re.fullmatch(r"[A-Za-z0-9]{8}", key):
            fail(f"paste {key}: a key is 8 letters or digits (the paste preset's topic URL)")
        path = f"/paste/{key}"
        paths[id(li)] = path
        long, short = paste_date(parse_time(li["time"]))
        author = (f'<a href="{OUT.dead_link(path, "/paste/u/" + li["seller"])}">{esc(li["seller"])}</a>'
                  if li["seller"] else "a guest")
        syntax = OUT.dead_link(path, f"/paste/archive/{li['syntax']}")
        lines = "\n".join(
            f'<li class="li1"><div class="de1">{esc(line).replace("  ", "&nbsp; ") or "&nbsp;"}</div></li>'
            for line in li["body"].split("\n"))
        size = f"{len(li['body'].encode('utf-8')) / 1024:.2f} KB"
        content = f"""<div class="post-view js-post-view">
    <div class="details">
        <div class="info-bar">
            <div class="info-top"><h1>{esc(li['title'])}</h1></div>
            <div class="info-bottom">
                <div class="username">{author}</div>
                <div class="date"><span title="{long}">{short}</span></div>
                <div class="visits" title="Unique visits to this paste">{esc(li['views'])}</div>
                <div class="expire" title="When this paste gets automatically deleted">Never</div>
            </div>
        </div>
    </div>
    <div class="highlighted-code">
        <div class="top-buttons">
            <div class="left"><a href="{syntax}" class="btn -small h_800">{esc(li['syntax'])}</a> {size}</div>
            <div class="right"><a href="/paste/raw/{key}" class="btn -small">raw</a></div>
        </div>
        <div class="source {esc(li['syntax'])}">
            <ol class="text">{lines}</ol>
        </div>
    </div>
</div>"""
        OUT.add(path, f"paste/{key}.html", ps["charset"], paste_doc(ps, path, li["title"], content, pastes))
        OUT.add(f"/paste/raw/{key}", f"paste/raw-{key}.txt", ps["charset"], li["body"] + "\n")
    rows = []
    for li in pastes:
        syntax = OUT.dead_link("/paste/archive", f"/paste/archive/{li['syntax']}")
        rows.append(f"""                    <tr>
                        <td><span class="status -public"></span><a href="/paste/{li['key']}">{esc(li['title'])}</a></td>
                        <td class="td_smaller h_800 td_right">{parse_time(li['time']):%Y-%m-%d %H:%M} UTC</td>
                        <td class="td_smaller h_800 td_right"><a href="{syntax}">{esc(li['syntax'])}</a></td></tr>""")
    content = f"""<div class="page page-archive -top">
        <div class="content__title">Pastes Archive</div>
        <div class="content__text"><div class="notice -no-margin">This page contains the most recently created 'public' pastes.</div></div>
        <div class="archive-table">
            <table class="maintable">
                <tbody>
                    <tr>
                        <th scope="col">Name / Title</th>
                        <th scope="col" class="h_800 td_right">Posted</th>
                        <th scope="col" class="h_800 td_right">Syntax</th>
                    </tr>
{chr(10).join(rows)}
                </tbody>
            </table>
        </div>
</div>"""
    OUT.add("/paste/archive", "paste/archive.html", ps["charset"], paste_doc(ps, "/paste/archive", "Pastes Archive", content, pastes))
    return paths


# --------------------------------------------------------------------------------------
# Reference matcher (a deliberately conservative approximation of DESIGN.md)
# --------------------------------------------------------------------------------------

CONFUSABLES = {
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "У": "Y", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y",
    "х": "x", "і": "i", "ј": "j", "ѕ": "s", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H",
    "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "ο": "o",
}
KANJI = {
    "銀": "银", "東": "东", "聯": "联", "郵": "邮", "總": "总", "総": "总", "務": "务", "経": "经",
    "經": "经", "済": "济", "濟": "济", "産": "产", "產": "产", "業": "业", "電": "电", "機": "机",
    "気": "气", "氣": "气", "販": "贩", "売": "卖", "賣": "卖", "価": "价", "價": "价", "譲": "让",
    "讓": "让", "買": "买", "収": "收", "購": "购", "貨": "货", "擔": "担", "証": "证", "證": "证",
}


def fold(s):
    s = unicodedata.normalize("NFKC", s)
    s = "".join(CONFUSABLES.get(c, c) for c in s)
    s = s.casefold()
    out = []
    for c in s:
        o = ord(c)
        if 0x30A1 <= o <= 0x30F6:
            c = chr(o - 0x60)
        out.append(KANJI.get(c, c))
    return "".join(out)


def defang(s):
    s = re.sub(r"\[\.\]|\(\.\)|\[dot\]|\(dot\)|\{dot\}", ".", s)
    return s.replace("hxxp", "http")


def norm(s):
    return defang(fold(s))


SEP = r"[\W_]{0,3}"


def term_regex(term):
    chars = [c for c in fold(term) if c.isalnum()]
    latin = all(c.isascii() for c in chars)
    body = SEP.join(re.escape(c) for c in chars)
    if latin:
        return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9])"), True
    return re.compile(body), False


STRICT_CUES = ["出售", "出货", "收购", "求购", "担保", "价格", "私聊", "販売", "売ります", "譲ります",
               "買います", "買取", "価格", "for sale", "selling", "wts", "wtb", "buying", "escrow",
               "price", "продам", "продаю", "куплю", "цена"]
SINGLE_CUES = ["收", "出", "卖"]
BROAD_CUES = STRICT_CUES + ["sell", "sale", "buy", "vendor", "offer", "deal", "trade", "cheap",
                            "btc", "usdt", "$", "pm me", "гарант", "прода", "куп", "цен", "торг",
                            "购", "售", "卖", "价", "贩", "交易", "売", "買", "販", "譲", "値段",
                            "取引", "円", "価", "代收", "接码", "出品"]
BROAD_SINGLES = ["收", "出", "卖", "売", "買", "求"]


def cue_positions(text, cues, latin_boundaries):
    pos = []
    for c in cues:
        fc = norm(c)
        if latin_boundaries and fc.isascii() and fc[0].isalnum():
            rx = re.compile(r"(?<![a-z0-9])" + re.escape(fc) + r"(?![a-z0-9])")
        else:
            rx = re.compile(re.escape(fc))
        pos += [(m.start(), c) for m in rx.finditer(text)]
    return pos


def line_start_positions(text, singles):
    fs = {norm(c) for c in singles}
    out = []
    for m in re.finditer(r"(?:^|\n)[\s【\[「(（]*", text):
        i = m.end()
        if i < len(text) and text[i] in fs:
            out.append(i)
    return out


class Asset:
    def __init__(self, customer, a):
        self.customer = customer
        self.id = a["id"]
        self.key = f"{customer}/{a['id']}"
        self.terms = [term_regex(t) for t in a.get("terms", [])]
        self.domains = [re.compile(r"(?<![a-z0-9-])" + re.escape(d.lower()) + r"(?![a-z0-9-])")
                        for d in a.get("domains", [])]
        self.excludes = [term_regex(x)[0] for x in a.get("exclude", [])]

    def hits(self, text, honour_excludes=True):
        """[(pos, strict)] where strict = unambiguous under any boundary notion."""
        ex = []
        if honour_excludes:
            for rx in self.excludes:
                ex += [(m.start(), m.end()) for m in rx.finditer(text)]
        out = []
        for rx, latin in self.terms:
            for m in rx.finditer(text):
                if any(a <= m.start() < b for a, b in ex):
                    continue
                strict = True
                if latin:
                    before = text[m.start() - 1] if m.start() else " "
                    after = text[m.end()] if m.end() < len(text) else " "
                    strict = not (before.isalnum() or after.isalnum())
                out.append((m.start(), strict))
        for rx in self.domains:
            out += [(m.start(), True) for m in rx.finditer(text)]
        return out


def load_assets():
    assets = []
    for name in sorted(os.listdir(WATCHLIST_DIR)):
        if name.endswith(".toml"):
            with open(os.path.join(WATCHLIST_DIR, name), "rb") as f:
                w = tomllib.load(f)
            for a in w["assets"]:
                assets.append(Asset(w["customer"], a))
    return assets


def check_listing(li, path, assets, priced):
    title = norm(li["title"])
    text = norm(li["title"] + "\n" + li["body"])
    expected = set(li["alerts"])
    for r in li.get("replies", []):
        rt = norm(r["body"])
        for a in assets:
            if a.hits(rt, honour_excludes=False):
                fail(f"{path}: a reply names watched asset {a.key}")
    strict_cues = cue_positions(text, STRICT_CUES, True)
    title_cue = any(p < len(title) for p, _ in strict_cues)
    title_single = bool(title) and title[0] in {norm(c) for c in SINGLE_CUES}
    for a in assets:
        if a.key in expected:
            hits = a.hits(text)
            if not hits:
                fail(f"{path}: expected {a.key} but no term/domain of it is found")
                continue
            if not any(s for _, s in hits):
                fail(f"{path}: {a.key} only matches a Latin term glued to other letters (ambiguous boundary)")
            for rx in a.excludes:
                if rx.search(text):
                    fail(f"{path}: alerting page contains an exclude phrase of {a.key}")
            near = any(abs(cp - hp) <= 150 for cp, _ in strict_cues for hp, _ in hits)
            if not (priced or title_cue or near or title_single):
                fail(f"{path}: {a.key} has no sale context (no cue in title or near the term, not a priced listing)")
        else:
            hits = a.hits(text, honour_excludes=False)
            if not hits:
                continue
            if expected:
                fail(f"{path}: alerting page also names unexpected asset {a.key}")
                continue
            if priced:
                fail(f"{path}: quiet page is a priced listing naming {a.key}")
            broad = cue_positions(text, BROAD_CUES, False) + [(p, "line-start") for p in line_start_positions(text, BROAD_SINGLES)]
            if li.get("far_cue"):
                if any(p < len(title) for p, _ in broad):
                    fail(f"{path}: far-cue page has a cue in its title")
                for cp, c in broad:
                    for hp, _ in hits:
                        if abs(cp - hp) < 600:
                            fail(f"{path}: cue {c!r} only {abs(cp - hp)} chars from {a.key}")
            elif broad:
                fail(f"{path}: quiet page names {a.key} and has trade-ish words {sorted({c for _, c in broad})}")


# --------------------------------------------------------------------------------------
# Checks on the generated files
# --------------------------------------------------------------------------------------

class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.meta = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("a", "link", "area") and a.get("href") is not None:
            self.links.append(a["href"])
        if tag == "form" and a.get("action") is not None:
            self.links.append(a["action"])
        if tag == "meta" and "charset" in a:
            self.meta.append(a["charset"])


DEAD_OK = re.compile(r"^/(market/(ucp|memberlist|posting)\.php|jp/(login|bbs)\.cgi|"
                     r"forum/(member|memberlist|search|newreply|newthread)\.php|"
                     r"paste/(login|u/\w+|archive/\w+))(\?|$)")


def check_pages():
    prefixes = ("/market/", "/jp/", "/forum/", "/paste/", "/")
    graph = {p: {to} for p, to in OUT.redirects.items()}
    for path, (file, charset) in OUT.routes.items():
        text = OUT.pages[file]
        raw = file.endswith(".txt")
        codecs = {"gbk": ["gbk"], "shift_jis": ["shift_jis", "cp932"], "utf-8": ["utf-8"]}[charset]
        for codec in codecs:
            try:
                if text.encode(codec).decode(codec) != text:
                    fail(f"{file}: does not round-trip through {codec}")
            except UnicodeEncodeError as e:
                fail(f"{file}: not encodable in {codec}: {text[e.start:e.end]!r} (U+{ord(text[e.start]):04X})")
        if charset == "shift_jis":
            bad = sorted(set(text) & SJIS_FORBIDDEN)
            if bad:
                fail(f"{file}: characters whose Shift_JIS mapping differs between encoders: {bad}")
        if raw:
            graph[path] = set()
            continue
        p = LinkParser()
        p.feed(text)
        p.close()
        if p.meta != [META_CHARSET[charset]]:
            fail(f"{file}: <meta charset> is {p.meta}, want [{META_CHARSET[charset]!r}]")
        graph[path] = set()
        site = next(x for x in prefixes if path.startswith(x))
        for href in p.links:
            if href.startswith("#"):
                continue
            telegram = file.startswith("telegram/")
            if telegram and re.match(r"^(https://t\.me/\w+(/\d+)?|tg://resolve\?domain=\w+)$", href):
                continue  # a channel's or message's own address: data, never followed
            netloc, target = resolve(path, href)
            if netloc != "demo.invalid":
                fail(f"{file}: external link {href!r} (the demo must never leave loopback)")
                continue
            if not target.startswith(site):
                fail(f"{file}: link {href!r} leaves its site ({target})")
                continue
            route_path = target.split("#")[0]
            if telegram and not re.match(r"^/s/\w+\?before=\d+$", route_path):
                fail(f"{file}: link {href!r}: a preview links only its older messages")
                continue
            if route_path in OUT.routes:
                graph[path].add(route_path)
            elif route_path in OUT.dead:
                if not DEAD_OK.match(route_path):
                    fail(f"{file}: dead link {route_path} is not a login/profile/posting link")
            else:
                fail(f"{file}: link {href!r} -> {route_path} has no route and is not a registered dead link")
    for src, to in OUT.redirects.items():
        if to not in OUT.routes:
            fail(f"redirect {src} -> {to} has no route")
    for d in OUT.dead:
        if d in OUT.routes:
            fail(f"dead link {d} has a route")
    seen, todo = set(), list(SEEDS)
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo += sorted(graph.get(x, ()))
    for path in OUT.routes:
        if path not in seen:
            fail(f"route {path} is not reachable from the seeds {SEEDS}")


def main():
    with open(os.path.join(HERE, "listings.json"), encoding="utf-8") as f:
        data = json.load(f)
    sites = data["sites"]
    listings = data["listings"]
    for li in listings:
        for k in ("site", "title", "body", "seller", "time", "alerts"):
            if k not in li:
                fail(f"listing {li.get('id', li.get('slug'))}: missing {k}")
    if errors:
        return report()

    per_site = {s: [li for li in listings if li["site"] == s] for s in ("market", "jp", "forum", "telegram", "paste")}
    paths = {}
    paths.update(build_market(sites["market"], per_site["market"]))
    paths.update(build_jp(sites["jp"], per_site["jp"]))
    paths.update(build_forum(sites["forum"], per_site["forum"]))
    paths.update(build_telegram(sites["telegram"], per_site["telegram"]))
    paths.update(build_paste(sites["paste"], per_site["paste"]))

    # ---- write ----
    if os.path.isdir(SITE_DIR):
        shutil.rmtree(SITE_DIR)
    for file, text in sorted(OUT.pages.items()):
        full = os.path.join(SITE_DIR, file)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    routes = [{"path": p, "file": fc[0], "charset": fc[1]} for p, fc in sorted(OUT.routes.items())]
    with open(os.path.join(HERE, "routes.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write('{"routes": [\n' + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in routes) + "\n],\n"
                + '"redirects": [\n' + ",\n".join("  " + json.dumps({"path": p, "to": to}, ensure_ascii=False)
                                                 for p, to in sorted(OUT.redirects.items())) + "\n]}\n")

    # ---- expected.json ----
    alerts, quiet = [], []
    for li in listings:
        path = paths[id(li)]
        for key in sorted(set(li["alerts"])):
            customer, asset = key.split("/")
            alerts.append({"path": path, "customer": customer, "asset": asset})
        if not li["alerts"]:
            quiet.append(path)
    alerts.sort(key=lambda a: (a["path"], a["customer"], a["asset"]))
    quiet.sort()

    docs = {paths[id(li)]: li for li in listings}

    def doc_text(li):
        return li["title"] + "\n" + li["body"]

    probes = []
    for word, site in (("鸾琥珀阁", "market"), ("瑠璃鴎堂", "jp")):
        holders = [p for p, li in docs.items() if word in doc_text(li)]
        files = [fl for fl, t in OUT.pages.items() if word in t]
        if len(holders) != 1 or len(files) != 1 or docs[holders[0]]["site"] != site:
            fail(f"probe {word!r}: in documents {holders}, files {files}; want exactly one {site} page")
            continue
        others = "".join(doc_text(li) + li["seller"] + "".join(r["body"] for r in li.get("replies", []))
                         for p, li in docs.items() if p != holders[0])
        shared = [c for c in word if c in others]
        if shared:
            fail(f"probe {word!r}: characters {shared} also occur in other documents")
        probes.append({"query": word, "path": holders[0]})
    word = "三菱日联"
    raw = sorted(p for p, li in docs.items() if word in doc_text(li))
    loose = sorted(p for p, li in docs.items()
                   if re.sub(r"[\W_]", "", fold(word)) in re.sub(r"[\W_]", "", fold(doc_text(li))))
    if raw != loose:
        fail(f"probe {word!r}: folded/spaced variants occur in {sorted(set(loose) - set(raw))}")
    probes.append({"query": word, "paths": raw})

    expected = {"alerts": alerts, "no_alert_paths": quiet, "search_probes": probes}
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(expected, ensure_ascii=False, indent=2) + "\n")

    # ---- checks ----
    for path, (file, _) in OUT.routes.items():
        if not os.path.isfile(os.path.join(SITE_DIR, file)):
            fail(f"route {path}: file {file} missing")
    on_disk = set()
    for root, _, files in os.walk(SITE_DIR):
        for fl in files:
            on_disk.add(os.path.relpath(os.path.join(root, fl), SITE_DIR).replace(os.sep, "/"))
    for fl in sorted(on_disk - {fc[0] for fc in OUT.routes.values()}):
        fail(f"site/{fl} has no route")
    for p in [a["path"] for a in alerts] + quiet + [x for pr in probes for x in pr.get("paths", [pr.get("path")])]:
        if p not in OUT.routes and p not in OUT.permalinks:
            fail(f"expected.json path {p} has no route")
    if len(set(quiet) & {a["path"] for a in alerts}):
        fail("a path is both alerting and quiet")
    check_pages()

    assets = load_assets()
    known = {a.key for a in assets}
    for li in listings:
        path = paths[id(li)]
        for key in li["alerts"]:
            if key not in known:
                fail(f"{path}: expected alert {key} is not in any watchlist")
        priced = li["site"] == "market" and sites["market"]["forums"][str(li["forum"])]["kind"] == "trade"
        check_listing(li, path, assets, priced)

    n = {s: (sum(1 for li in per_site[s] if li["alerts"]), sum(1 for li in per_site[s] if not li["alerts"]))
         for s in per_site}
    print(f"wrote {len(OUT.pages)} pages, {len(OUT.routes)} routes, {len(alerts)} expected alerts")
    for s, (a, q) in n.items():
        print(f"  {s:8s} {a:3d} alerting pages, {q:3d} quiet pages")
    return report()


def report():
    if errors:
        for e in errors:
            print("ERROR:", e, file=sys.stderr)
        print(f"{len(errors)} problem(s)", file=sys.stderr)
        return 1
    print("self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
