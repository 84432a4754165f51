"""Small warehouse-export fixtures that follow each source's published schema, generated with a
seed (no download). Each generator also returns the totals computed directly from the rows it
wrote, by the source's own rules, for the importers' conservation tests.

Schemas: Google "[GA4] BigQuery Export schema"; Adobe "Data feed column reference";
Snowplow "Canonical event model"; Twilio Segment "Warehouse schemas" and "Spec: V2 Ecommerce
Events"; Criteo "Attribution Modeling for Bidding" dataset README.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

T0 = 1_730_000_000  # 2024-10-27, seconds

GA4_SOURCES = [  # (source, medium, campaign, gclid)
    ("google", "cpc", "brand", "Cj0KCQ"),
    ("google", "organic", None, None),
    ("facebook", "paid_social", "retarget", None),
    ("newsletter", "email", "weekly", None),
    ("partner.com", "referral", None, None),
    (None, None, None, "EAIaIQ"),  # gclid only: auto-tagged Google Ads
    (None, None, None, None),  # no source: a direct session
]


def _param(key, value):
    v = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    if isinstance(value, str):
        v["string_value"] = value
    elif isinstance(value, (int, np.integer)):
        v["int_value"] = int(value)
    else:
        v["double_value"] = float(value)
    return {"key": key, "value": v}


def ga4_events(n_users: int = 40, seed: int = 0):
    """Nested GA4 export rows (list of dicts, one per event) and the direct totals."""
    rng = np.random.default_rng(seed)
    rows = []
    purchases = []  # (transaction_id or None, revenue, time) of every purchase event
    for u in range(n_users):
        pseudo = f"{1000 + u}.{1700000000 + u}"
        user_id = f"U{u}" if u % 3 == 0 else None
        t = T0 + int(rng.integers(0, 86400 * 5))
        for s in range(int(rng.integers(1, 4))):
            sid = int(t)
            src, med, cmp, gclid = GA4_SOURCES[int(rng.integers(len(GA4_SOURCES)))]
            logged_in = user_id if s > 0 else None  # the user logs in after the first session
            consent = "No" if (u % 11 == 5 and s == 0) else "Yes"
            names = ["session_start", "page_view"] + (["purchase"] if rng.random() < 0.45 else [])
            for k, name in enumerate(names):
                ts_us = (t + 10 * k) * 1_000_000 + int(rng.integers(0, 999_999))
                params = [_param("ga_session_id", sid), _param("page_location", "https://shop.example/")]
                eco = None
                if name == "purchase":
                    tid = None if rng.random() < 0.15 else f"T{u}-{s}"
                    revenue = float(np.round(rng.uniform(5, 200), 2))
                    if tid is None:  # no ecommerce record: the value parameter carries the revenue
                        params.append(_param("value", revenue))
                    else:
                        eco = {"total_item_quantity": 1, "purchase_revenue_in_usd": revenue,
                               "purchase_revenue": revenue, "refund_value_in_usd": None, "refund_value": None,
                               "shipping_value_in_usd": 0.0, "shipping_value": 0.0, "tax_value_in_usd": 0.0,
                               "tax_value": 0.0, "unique_items": 1, "transaction_id": tid}
                    purchases.append((tid, revenue, ts_us))
                carries = k == 0  # the session's first event carries the traffic source
                rows.append({
                    "event_date": pd.Timestamp(ts_us, unit="us").strftime("%Y%m%d"),
                    "event_timestamp": ts_us,
                    "event_name": name,
                    "event_params": params,
                    "user_id": logged_in,
                    "user_pseudo_id": pseudo,
                    "privacy_info": {"analytics_storage": consent, "ads_storage": consent, "uses_transient_token": "No"},
                    "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},  # user scope: unused
                    "collected_traffic_source": {
                        "manual_campaign_id": None, "manual_campaign_name": cmp if carries else None,
                        "manual_source": src if carries else None, "manual_medium": med if carries else None,
                        "manual_term": None, "manual_content": None, "gclid": gclid if carries else None,
                        "dclid": None, "srsltid": None,
                    } if carries else None,
                    "session_traffic_source_last_click": {
                        "manual_campaign": {"campaign_id": None, "campaign_name": cmp or "(not set)",
                                            "source": src or "(direct)", "medium": med or "(none)"},
                        "cross_channel_campaign": {"default_channel_group": None, "primary_channel_group": None},
                    },
                    "ecommerce": eco,
                })
                if name == "purchase" and eco is not None and rng.random() < 0.25:
                    # GA4 duplicate: the same transaction sent again a moment later
                    dup = dict(rows[-1], event_timestamp=ts_us + 2_000_000)
                    rows.append(dup)
                    purchases.append((tid, revenue, ts_us + 2_000_000))
            t += int(rng.integers(3600, 86400 * 3))
    seen, count, revenue = set(), 0, 0.0
    for tid, rev, _ in sorted(purchases, key=lambda p: p[2]):
        if tid is not None and tid in seen:
            continue
        seen.add(tid)
        count += 1
        revenue += rev
    return rows, {"purchases": count, "revenue": revenue, "events": len(rows),
                  "duplicates": len(purchases) - count}


def ga4_flatten(rows) -> pd.DataFrame:
    """The same export flattened: dotted struct columns and ``event_params.<key>`` columns."""
    out = []
    for r in rows:
        flat = {}
        for k, v in r.items():
            if k == "event_params":
                for p in v:
                    val = next((x for x in p["value"].values() if x is not None), None)
                    flat[f"event_params.{p['key']}"] = val
            elif isinstance(v, dict) or (v is None and k in ("ecommerce", "collected_traffic_source")):
                stack = [(k, v or {})]
                while stack:
                    prefix, d = stack.pop()
                    for kk, vv in d.items():
                        if isinstance(vv, dict):
                            stack.append((f"{prefix}.{kk}", vv))
                        else:
                            flat[f"{prefix}.{kk}"] = vv
            else:
                flat[k] = v
        out.append(flat)
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------ Adobe

ADOBE_COLUMNS = [
    "accept_language", "browser", "date_time", "duplicate_purchase", "exclude_hit", "hit_source",
    "hit_time_gmt", "post_campaign", "post_event_list", "post_product_list", "post_purchaseid",
    "post_visid_high", "post_visid_low", "va_closer_detail", "va_closer_id", "va_instance_event",
    "visit_num", "visit_page_num",
]
ADOBE_CHANNELS = {"1": "Paid Search", "2": "Natural Search", "3": "Display", "4": "Email", "5": "Direct"}


def adobe_hits(n_visitors: int = 30, seed: int = 0):
    """hit_data rows (all cells strings, as in the TSV) and the direct totals."""
    rng = np.random.default_rng(seed)
    rows, seen, count, revenue, excluded, ds = [], set(), 0, 0.0, 0, 0
    for v in range(n_visitors):
        high, low = str(3000000000 + v), str(7000000000 + 7 * v)
        t = T0 + int(rng.integers(0, 86400 * 5))
        for visit in range(1, int(rng.integers(2, 4))):
            ch = str(int(rng.integers(1, 6)))
            for page in range(1, 4):
                hit = dict.fromkeys(ADOBE_COLUMNS, "")
                hit.update(post_visid_high=high, post_visid_low=low, hit_time_gmt=str(t), visit_num=str(visit),
                           visit_page_num=str(page), exclude_hit="0", hit_source="1", duplicate_purchase="0",
                           date_time=pd.Timestamp(t, unit="s").strftime("%Y-%m-%d %H:%M:%S"))
                if page == 1:
                    hit.update(va_instance_event="1", va_closer_id=ch, va_closer_detail=f"detail{ch}",
                               post_campaign=f"cmp{ch}" if ch != "5" else "")
                purchase = page == 3 and rng.random() < 0.5
                kind = rng.random()
                if purchase:
                    pid = f"P{v}{visit}"
                    n_prod = int(rng.integers(1, 3))
                    prices = np.round(rng.uniform(1, 90, n_prod), 2)
                    hit.update(post_event_list="1,200,201=3", post_purchaseid=pid,
                               post_product_list=",".join(f"Shoes;SKU{i};1;{p:.2f};;" for i, p in enumerate(prices)))
                    if kind < 0.1:
                        hit["exclude_hit"] = "3"  # e.g. excluded by IP rule
                        excluded += 1
                    elif kind < 0.2:
                        hit["hit_source"] = "5"  # a data-source row
                        ds += 1
                    elif pid not in seen:
                        seen.add(pid)
                        count += 1
                        revenue += float(prices.sum())
                    rows.append(hit)
                    if kind >= 0.2 and rng.random() < 0.3:  # a reload of the thank-you page
                        rows.append(dict(hit, hit_time_gmt=str(t + 5), duplicate_purchase="1"))
                    t += 30
                    continue
                elif page == 2:
                    hit["post_event_list"] = "100,101"
                rows.append(hit)
                t += 30
            t += int(rng.integers(3600, 86400 * 2))
    df = pd.DataFrame(rows, columns=ADOBE_COLUMNS)
    return df, {"purchases": count, "revenue": revenue, "excluded_hit": excluded, "data_source_hit": ds}


# --------------------------------------------------------------------------------- Snowplow

def snowplow_events(n_users: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    sources = [  # mkt_source, mkt_medium, mkt_campaign, refr_medium, refr_source, clickid
        ("google", "cpc", "brand", None, None, "gclid123"),
        ("newsletter", "email", "may", None, None, None),
        (None, None, None, "search", "Google", None),
        (None, None, None, "social", "Facebook", None),
        (None, None, None, "unknown", None, None),
        (None, None, None, "internal", None, None),
        (None, None, None, None, None, None),
    ]
    rows, seen, count, revenue = [], set(), 0, 0.0
    for u in range(n_users):
        duid = f"d{u:04x}-cookie"
        uid = f"user{u}" if u % 2 == 0 else None
        t = pd.Timestamp(T0, unit="s", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 100)))
        for s in range(int(rng.integers(1, 4))):
            ms, mm, mc, rm, rs, clk = sources[int(rng.integers(len(sources)))]
            sid = f"sess-{u}-{s}"
            names = ["page_view", "page_view"] + (["transaction"] if rng.random() < 0.5 else [])
            for k, name in enumerate(names):
                row = {"app_id": "shop", "platform": "web", "event": "struct" if name == "transaction" else "page_view",
                       "event_id": f"e{len(rows)}", "event_name": name, "event_vendor": "com.snowplowanalytics.snowplow",
                       "collector_tstamp": (t + pd.Timedelta(seconds=k * 40 + 1)).isoformat(),
                       "derived_tstamp": (t + pd.Timedelta(seconds=k * 40)).isoformat(),
                       "user_id": uid if s > 0 else None, "domain_userid": duid, "network_userid": f"n{u}",
                       "domain_sessionid": sid, "domain_sessionidx": s + 1,
                       "mkt_source": ms if k == 0 else None, "mkt_medium": mm if k == 0 else None,
                       "mkt_campaign": mc if k == 0 else None, "mkt_clickid": clk if k == 0 else None,
                       "refr_medium": rm if k == 0 else ("internal" if k else None),
                       "refr_source": rs if k == 0 else None,
                       "refr_urlhost": ("partner.example" if rm == "unknown" else None) if k == 0 else "shop.example",
                       "tr_orderid": None, "tr_total": None}
                if name == "transaction":
                    oid = f"O{u}-{s}"
                    total = float(np.round(rng.uniform(10, 300), 2))
                    row.update(tr_orderid=oid, tr_total=total)
                    if oid not in seen:
                        seen.add(oid)
                        count += 1
                        revenue += total
                    rows.append(row)
                    if rng.random() < 0.3:  # the tracker retried: same order again
                        rows.append(dict(row, event_id=f"e{len(rows)}",
                                         derived_tstamp=(t + pd.Timedelta(seconds=k * 40 + 3)).isoformat()))
                    continue
                rows.append(row)
            t += pd.Timedelta(hours=int(rng.integers(2, 48)))
    return pd.DataFrame(rows), {"purchases": count, "revenue": revenue}


# ---------------------------------------------------------------------------------- Segment

def segment_tables(n_users: int = 30, seed: int = 0):
    """pages, order_completed, identifies tables and the direct totals."""
    rng = np.random.default_rng(seed)
    pages, orders, identifies = [], [], []
    seen, count, revenue, total = set(), 0, 0.0, 0.0
    for u in range(n_users):
        anon = f"anon-{u}"
        user = f"user-{u}" if u % 2 == 0 else None
        t = pd.Timestamp(T0, unit="s", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 100)))
        for s in range(int(rng.integers(1, 4))):
            kind = int(rng.integers(0, 4))
            utm = {"context_campaign_source": None, "context_campaign_medium": None, "context_campaign_name": None}
            url, ref = "https://shop.example/landing", None
            if kind == 0:
                utm = {"context_campaign_source": "facebook", "context_campaign_medium": "paid_social",
                       "context_campaign_name": "spring"}
            elif kind == 1:
                url = "https://shop.example/landing?gclid=abc123"
            elif kind == 2:
                ref = "https://www.bing.com/search?q=shoes"
            logged = user if s > 0 else None
            pages.append({"id": f"pg{len(pages)}", "anonymous_id": anon, "user_id": logged, "timestamp": t.isoformat(),
                          "received_at": (t + pd.Timedelta(seconds=1)).isoformat(), "context_page_url": url,
                          "context_page_referrer": ref, **utm, "context_campaign_term": None,
                          "context_campaign_content": None})
            pages.append({"id": f"pg{len(pages)}", "anonymous_id": anon, "user_id": logged,
                          "timestamp": (t + pd.Timedelta(seconds=30)).isoformat(),
                          "received_at": (t + pd.Timedelta(seconds=31)).isoformat(),
                          "context_page_url": "https://shop.example/cart",
                          "context_page_referrer": "https://shop.example/landing",
                          "context_campaign_source": None, "context_campaign_medium": None,
                          "context_campaign_name": None, "context_campaign_term": None, "context_campaign_content": None})
            if logged:
                identifies.append({"id": f"id{len(identifies)}", "anonymous_id": anon, "user_id": user,
                                   "timestamp": t.isoformat()})
            if rng.random() < 0.5:
                oid = f"ord-{u}-{s}"
                rev = float(np.round(rng.uniform(10, 200), 2))
                tot = float(np.round(rev * 1.2 + 4.99, 2))
                o = {"id": f"o{len(orders)}", "anonymous_id": anon, "user_id": logged,
                     "timestamp": (t + pd.Timedelta(seconds=60)).isoformat(), "event": "order_completed",
                     "event_text": "Order Completed", "order_id": oid, "revenue": rev, "total": tot,
                     "currency": "USD"}
                orders.append(o)
                if oid not in seen:
                    seen.add(oid)
                    count += 1
                    revenue += rev
                    total += tot
                if rng.random() < 0.3:
                    orders.append(dict(o, id=f"o{len(orders)}",
                                       timestamp=(t + pd.Timedelta(seconds=65)).isoformat()))
            t += pd.Timedelta(hours=int(rng.integers(2, 48)))
    return (pd.DataFrame(pages), pd.DataFrame(orders), pd.DataFrame(identifies),
            {"purchases": count, "revenue": revenue, "total": total})


# ----------------------------------------------------------------------------------- Criteo

def criteo_rows(n_users: int = 40, seed: int = 0):
    from attribution.io.criteo import CRITEO_COLUMNS

    rng = np.random.default_rng(seed)
    rows, next_conv = [], 0
    for u in range(n_users):
        t = int(rng.integers(0, 86400 * 20))
        for _ in range(int(rng.integers(1, 3))):
            n_imp = int(rng.integers(1, 5))
            converts = rng.random() < 0.4
            cid, cts = (next_conv, t + 86400 * 2) if converts else (-1, -1)
            next_conv += converts
            clicks = rng.random(n_imp) < 0.3
            for i in range(n_imp):
                rows.append([t + 3600 * i, u, int(rng.choice([101, 202, 303])), int(converts), cts, cid,
                             int(converts and i == n_imp - 1), int(clicks[i]), -1, int(clicks.sum()), 0.1, -1,
                             -1, *rng.integers(0, 100, 9).tolist()])
            t += 86400 * 3
    df = pd.DataFrame(rows, columns=CRITEO_COLUMNS)
    return df, {"purchases": next_conv, "revenue": float(next_conv), "impressions": len(df)}
