"""Channel grouping: (source, medium, campaign) -> a marketing channel, by editable rules.

:func:`default_channel_group` applies the GA4 default channel grouping; :class:`ChannelRules`
holds any rule table (the GA4 one is :data:`GA4_RULES`, a DataFrame you can copy and edit).

A rule table has one row per condition, columns ``group``, ``source``, ``medium``,
``campaign``. A cell holds a regular expression that must match the *whole* value
(case-insensitively); an empty cell (NaN / None) matches anything. The cells of one row are
combined with AND; the rows are tried top to bottom and the **first matching row wins**, so an
OR is written as two rows of the same group.

The GA4 definitions (Google Analytics Help, "[GA4] Default channel group", answer 9756891,
as of 2024) are evaluated in this order: Direct, Cross-network, Paid Shopping, Paid Search,
Paid Social, Paid Video, Display, Paid Other, Organic Shopping, Organic Social, Organic Video,
Organic Search, Referral, Email, Affiliates, Audio, SMS, Mobile Push Notifications, else
Unassigned. Google's rules refer to "a list of search / social / shopping / video sites" that
it publishes as a spreadsheet; :data:`SOURCE_CATEGORIES` holds the common entries of those
lists (as regexes allowing ``www.``/``m.``/``l.`` prefixes and any top-level domain), which is
the part of the table users most often extend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "GA4_RULES",
    "PAID_MEDIUM",
    "SOURCE_CATEGORIES",
    "ChannelRules",
    "default_channel_group",
]

#: Google's "paid" medium regex (``cpc``, ``ppc``, ``cpm``, ``retargeting``, ``paid_social``...).
PAID_MEDIUM = r".*cp.*|ppc|retargeting|paid.*"


def _sites(*names: str) -> str:
    """Regex for site names: ``google`` matches google, google.com, www.google.co.uk, m.google.de."""
    alts = "|".join(re.escape(n) for n in names)
    return rf"(?:(?:www|m|l|lm|mobile)\.)?(?:{alts})(?:\.[a-z]{{2,3}}){{0,2}}"


#: Source categories (the common entries of Google's published source lists).
SOURCE_CATEGORIES: dict[str, str] = {
    "search": _sites(
        "google", "bing", "yahoo", "search.yahoo", "baidu", "duckduckgo", "ecosia", "yandex",
        "naver", "search.naver", "seznam", "ask", "aol", "search.aol", "sogou", "so", "360",
        "startpage", "qwant", "daum", "search.daum", "yandex.ru", "msn", "search.msn", "brave",
        "search.brave", "coccoc", "dogpile", "onet", "rambler", "mail.ru", "go.mail.ru",
        "avg", "avast", "lycos", "webcrawler",
    ),
    "social": _sites(
        "facebook", "fb", "instagram", "ig", "linkedin", "lnkd", "lnkd.in", "twitter", "t.co", "x",
        "pinterest", "pin.it", "reddit", "tiktok", "snapchat", "quora", "tumblr", "vk", "weibo",
        "whatsapp", "wechat", "discord", "threads", "telegram", "line", "messenger", "meetup",
        "xing", "mastodon", "bsky", "bluesky", "nextdoor", "yelp", "tripadvisor", "medium",
        "flickr", "slideshare", "stackoverflow", "stackexchange", "news.ycombinator",
    ),
    "video": _sites(
        "youtube", "youtu.be", "vimeo", "dailymotion", "twitch", "netflix", "disneyplus", "hulu",
        "wistia", "youku", "iqiyi", "bilibili",
    ),
    "shopping": _sites(
        "amazon", "ebay", "etsy", "walmart", "shopify", "checkout.shopify", "aliexpress",
        "alibaba", "mercadolibre", "shopping.google", "igshopping", "stripe", "target", "rakuten",
        "zalando", "wayfair", "bestbuy", "shopzilla", "pricegrabber", "shopping.naver",
    ),
}

_S = SOURCE_CATEGORIES
_SHOP_CAMPAIGN = r"(.*(([^a-df-z]|^)shop|shopping).*)"
_EMAIL = r"email|e-mail|e_mail|e mail"

#: The GA4 default channel grouping as a rule table (first matching row wins).
GA4_RULES = pd.DataFrame(
    [
        ("Direct", r"\(direct\)", r"\(not set\)|\(none\)", None),
        ("Cross-network", None, None, r".*cross-network.*"),
        ("Paid Shopping", _S["shopping"], PAID_MEDIUM, None),
        ("Paid Shopping", None, PAID_MEDIUM, _SHOP_CAMPAIGN),
        ("Paid Search", _S["search"], PAID_MEDIUM, None),
        ("Paid Social", _S["social"], PAID_MEDIUM, None),
        ("Paid Video", _S["video"], PAID_MEDIUM, None),
        ("Display", None, r"display|banner|expandable|interstitial|cpm", None),
        ("Paid Other", None, PAID_MEDIUM, None),
        ("Organic Shopping", _S["shopping"], None, None),
        ("Organic Shopping", None, None, _SHOP_CAMPAIGN),
        ("Organic Social", _S["social"], None, None),
        ("Organic Social", None, r"social|social-network|social-media|sm|social network|social media", None),
        ("Organic Video", _S["video"], None, None),
        ("Organic Video", None, r".*video.*", None),
        ("Organic Search", _S["search"], None, None),
        ("Organic Search", None, r"organic", None),
        ("Referral", None, r"referral|app|link", None),
        ("Email", _EMAIL, None, None),
        ("Email", None, _EMAIL, None),
        ("Affiliates", None, r"affiliate", None),
        ("Audio", None, r"audio", None),
        ("SMS", r"sms", None, None),
        ("SMS", None, r"sms", None),
        ("Mobile Push Notifications", None, r".*push|.*mobile.*|.*notification.*", None),
        ("Mobile Push Notifications", r"firebase", None, None),
    ],
    columns=["group", "source", "medium", "campaign"],
)

_FIELDS = ("source", "medium", "campaign")


class ChannelRules:
    """An ordered rule table mapping (source, medium, campaign) to a channel group.

    Parameters
    ----------
    rules : DataFrame or list of tuples / dicts
        Columns ``group``, ``source``, ``medium``, ``campaign`` (missing columns match
        anything). Each non-empty cell is a regex matched against the whole value,
        case-insensitively; cells of a row are ANDed; the first matching row wins.
    default : str, default "Unassigned"
        The group when no row matches.
    missing : mapping, optional
        Values used for missing fields before matching. Default: a missing source is
        ``"(direct)"``, a missing medium ``"(none)"``, a missing campaign ``"(not set)"``
        (GA4's own placeholders, so an untagged visit is Direct).

    Examples
    --------
    >>> from attribution.channels import ChannelRules, GA4_RULES
    >>> rules = ChannelRules([("Newsletter", "mailchimp", None, None)]) + ChannelRules(GA4_RULES)
    >>> list(rules.apply(["mailchimp", "google"], ["email", "cpc"]))
    ['Newsletter', 'Paid Search']
    """

    def __init__(self, rules, *, default: str = "Unassigned", missing: Mapping[str, str] | None = None):
        table = rules.copy() if isinstance(rules, pd.DataFrame) else pd.DataFrame(
            list(rules), columns=None if rules and isinstance(list(rules)[0], Mapping) else ["group", *_FIELDS]
        )
        if "group" not in table.columns:
            raise ValueError(
                "The 'rules' parameter of ChannelRules must have a 'group' column. "
                f"Got columns {list(table.columns)} instead."
            )
        unknown = set(table.columns) - {"group", *_FIELDS}
        if unknown:
            raise ValueError(
                f"The 'rules' parameter of ChannelRules has unknown columns {sorted(unknown)}; "
                f"use 'group' and any of {list(_FIELDS)}."
            )
        for f in _FIELDS:
            if f not in table.columns:
                table[f] = None
        table = table[["group", *_FIELDS]].reset_index(drop=True)
        self._compiled = []
        for i, row in table.iterrows():
            pats = {}
            for f in _FIELDS:
                cell = row[f]
                if cell is None or (isinstance(cell, float) and np.isnan(cell)):
                    continue
                try:
                    pats[f] = re.compile(str(cell), re.IGNORECASE)
                except re.error as exc:
                    raise ValueError(
                        f"Rule {i} ({row['group']!r}) of ChannelRules has an invalid regex in "
                        f"{f!r}: {cell!r} ({exc})."
                    ) from None
            self._compiled.append((str(row["group"]), pats))
        self.rules = table
        self.default = default
        self.missing = {"source": "(direct)", "medium": "(none)", "campaign": "(not set)"}
        if missing:
            self.missing.update(missing)

    def __add__(self, other: "ChannelRules") -> "ChannelRules":
        """Rules of ``self`` first, then those of ``other`` (``other``'s default and missing)."""
        return ChannelRules(pd.concat([self.rules, other.rules], ignore_index=True),
                            default=other.default, missing=other.missing)

    def __repr__(self) -> str:
        return f"ChannelRules({len(self.rules)} rules, default={self.default!r})"

    def apply(self, source, medium, campaign=None) -> np.ndarray:
        """The group of every (source, medium, campaign), as an object array.

        Vectorised over the distinct triples: each rule is a regex match over the distinct
        values only, so millions of rows with a few thousand distinct source/medium pairs cost
        a few thousand matches.
        """
        src = pd.Series(np.asarray(source, dtype=object))
        n = len(src)
        med = pd.Series(np.asarray(medium, dtype=object))
        cmp = pd.Series(np.full(n, None, dtype=object) if campaign is None else np.asarray(campaign, dtype=object))
        if len(med) != n or len(cmp) != n:
            raise ValueError(
                "source, medium and campaign must have the same length. "
                f"Got {n}, {len(med)} and {len(cmp)}."
            )
        frame = pd.DataFrame({"source": src, "medium": med, "campaign": cmp})
        for f in _FIELDS:
            col = frame[f]
            blank = col.isna() | (col.astype(str).str.strip() == "")
            frame[f] = col.astype(object).where(~blank, self.missing[f]).astype(str).str.strip()
        # distinct triples, numbered in order of first appearance
        codes = frame.groupby(list(_FIELDS), sort=False).ngroup().to_numpy()
        u = frame.drop_duplicates().reset_index(drop=True)
        out = np.full(len(u), self.default, dtype=object)
        todo = np.ones(len(u), dtype=bool)
        for group, pats in self._compiled:
            if not todo.any():
                break
            hit = todo.copy()
            for f, pat in pats.items():
                vals = u[f].to_numpy(dtype=object)
                idx = np.flatnonzero(hit)
                ok = np.fromiter((pat.fullmatch(v) is not None for v in vals[idx]), bool, len(idx))
                hit[idx[~ok]] = False
            out[hit] = group
            todo &= ~hit
        return out[codes]


def default_channel_group(source, medium, campaign=None, *, rules: ChannelRules | pd.DataFrame | None = None,
                          default: str = "Unassigned") -> np.ndarray:
    """GA4's default channel group of each (source, medium, campaign).

    Parameters
    ----------
    source, medium : array-like of str
        Traffic source and medium (``utm_source`` / ``utm_medium``, GA4
        ``collected_traffic_source.manual_source`` / ``manual_medium``). Missing values are read
        as ``"(direct)"`` / ``"(none)"``.
    campaign : array-like of str, optional
        Campaign name (needed for Cross-network and the shopping-campaign rules).
    rules : ChannelRules or DataFrame, optional
        Another rule table (default :data:`GA4_RULES`).
    default : str, default "Unassigned"
        The group when no rule matches.

    Returns
    -------
    ndarray of object
        One group per input row.

    Notes
    -----
    Matching is case-insensitive, as GA4's is. The site lists behind "Source matches a list of
    search sites" etc. are approximated by :data:`SOURCE_CATEGORIES`; add entries (or rules in
    front) for sources specific to your traffic.

    References
    ----------
    Google Analytics Help, "[GA4] Default channel group" (support.google.com/analytics/answer/9756891).

    Examples
    --------
    >>> from attribution.channels import default_channel_group
    >>> list(default_channel_group(["google", "google", "facebook.com", "(direct)", "newsletter"],
    ...                            ["cpc", "organic", "referral", "(none)", "email"]))
    ['Paid Search', 'Organic Search', 'Organic Social', 'Direct', 'Email']
    """
    if rules is None:
        rules = ChannelRules(GA4_RULES, default=default)
    elif isinstance(rules, pd.DataFrame):
        rules = ChannelRules(rules, default=default)
    elif not isinstance(rules, ChannelRules):
        raise TypeError(
            "The 'rules' parameter of default_channel_group must be a ChannelRules or a DataFrame. "
            f"Got {type(rules).__name__} instead."
        )
    return rules.apply(source, medium, campaign)
