#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test of corral_cron_next (tests/tools/cron_next.c) against an independent
implementation: Python's zoneinfo and a walk over local days and minutes, with the rules of
docs/workflows.md written again here (Vixie day rule; a time in a gap fires at the first valid
instant after it; a time that occurs twice fires at its first occurrence only).

    cron_diff.py PATH/corral-cron-next [CASES]

Random cases from a fixed seed over UTC, Europe/Berlin, America/New_York and Australia/Lord_Howe,
2024-2060, many of them near DST changes. Exit 0 when all agree, 1 on a mismatch, 77 (skipped)
without zoneinfo or tzdata."""
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo
    ZoneInfo("Europe/Berlin")
except Exception as e:  # no zoneinfo module (Python < 3.9) or no tzdata
    print(f"cron_diff: skipped: no zoneinfo ({e})")
    sys.exit(77)

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
DAYS = "SUN MON TUE WED THU FRI SAT".split()
AT = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
      "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
      "@hourly": "0 * * * *"}


def parse_field(text, lo, hi, names=None):
    out = set()
    for part in text.split(","):
        step, had_step = 1, "/" in part
        if had_step:
            part, s = part.split("/")
            step = int(s)
        def val(x):
            return names.index(x.upper()) + (1 if names is MONTHS else 0) if x.isalpha() else int(x)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = map(val, part.split("-"))
            if names is DAYS and b == 0 and a > 0:
                b = 7  # FRI-SUN
        else:
            a = val(part)
            b = hi if had_step else a
        out.update(range(a, b + 1, step))
    return out


def parse(expr):
    expr = AT.get(expr.strip().lower(), expr)
    f = expr.split()
    if len(f) == 5:
        f = ["0"] + f
    sec, mi, hr = parse_field(f[0], 0, 59), parse_field(f[1], 0, 59), parse_field(f[2], 0, 23)
    dom, mon = parse_field(f[3], 1, 31), parse_field(f[4], 1, 12, MONTHS)
    dow = {d % 7 for d in parse_field(f[5], 0, 7, DAYS)}
    return sec, mi, hr, dom, mon, dow, not f[3].startswith("*"), not f[5].startswith("*")


def day_ok(c, d):
    _, _, _, dom, mon, dow, dr, wr = c
    if d.month not in mon:
        return False
    dm, wm = d.day in dom, (d.isoweekday() % 7) in dow
    return (dm or wm) if (dr and wr) else (dm and wm)


def exists(naive, z):
    u = naive.replace(tzinfo=z, fold=0).timestamp()
    return datetime.fromtimestamp(u, z).replace(tzinfo=None) == naive, u


def instant(naive, z):
    """The instant a local time fires at: its first occurrence, or the end of its gap."""
    ok, u = exists(naive, z)
    if ok:
        return int(u)
    m = naive.replace(second=0) + timedelta(minutes=1)
    while not exists(m, z)[0]:
        m += timedelta(minutes=1)
    return int(exists(m, z)[1])


def py_next(expr, zone, after_ms):
    c = parse(expr)
    sec, mi, hr = sorted(c[0]), sorted(c[1]), sorted(c[2])
    z = ZoneInfo(zone)
    after_s = after_ms // 1000
    day = datetime.fromtimestamp(after_s, z).replace(tzinfo=None).date() - timedelta(days=2)
    best = None
    stop = None
    for _ in range(366 * 30):
        if stop is not None and day > stop:
            break
        if day_ok(c, day):
            for h in hr:
                for m in mi:
                    for s in sec:
                        u = instant(datetime(day.year, day.month, day.day, h, m, s), z)
                        if u > after_s and (best is None or u < best):
                            best = u
                            stop = day + timedelta(days=1)
        day += timedelta(days=1)
    return None if best is None else best * 1000


def gen_field(rng, lo, hi, names=None, star=0.5):
    if rng.random() < star:
        return "*" if rng.random() < 0.7 else f"*/{rng.randint(2, max(2, hi // 2))}"
    def v(x):
        if names and rng.random() < 0.4:
            w = names[(x - (1 if names is MONTHS else 0)) % len(names)]
            return w.lower() if rng.random() < 0.3 else w
        return str(x)
    k = rng.random()
    a = rng.randint(lo, hi)
    if k < 0.3:
        return v(a)
    if k < 0.55:
        b = rng.randint(a, hi)
        return f"{v(a)}-{v(b)}"
    if k < 0.7:
        b = rng.randint(a, hi)
        return f"{v(a)}-{v(b)}/{rng.randint(1, 5)}"
    if k < 0.8:
        return f"{a}/{rng.randint(2, min(10, hi))}"
    return ",".join(v(x) for x in sorted(rng.sample(range(lo, hi + 1), rng.randint(2, 3))))


def gen_expr(rng, near_dst):
    if rng.random() < 0.05:
        return rng.choice(list(AT))
    mi = gen_field(rng, 0, 59, star=0.2)
    if near_dst:  # the hours of the changes (02:00 or 03:00 local), often alone
        hr = rng.choice(["1", "2", "3", "1,2", "2,3", "1-3", "0-4/2", "*/2", "*"])
    else:
        hr = gen_field(rng, 0, 23, star=0.4)
    dom = gen_field(rng, 1, 31, star=0.75)
    mon = gen_field(rng, 1, 12, MONTHS, star=0.8)
    dow = gen_field(rng, 0, 7, DAYS, star=0.75)
    f = [mi, hr, dom, mon, dow]
    if rng.random() < 0.15:
        f.insert(0, rng.choice(["0", "*/20", "10,40", "0-10/5", "30"]))
    return " ".join(f)


_changes = {}


def changes(zone, year):
    """The instants (UTC s) at which zone's offset changes in year, found by a walk (cached)."""
    key = (zone, year)
    if key not in _changes:
        z = ZoneInfo(zone)
        t = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
        end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
        off = lambda u: datetime.fromtimestamp(u, z).utcoffset()
        found = []
        while t < end:
            if off(t) != off(t + 3600):
                lo, hi = t, t + 3600  # off(lo) != off(hi): bisect to the second
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if off(mid) == off(lo) else (lo, mid)
                found.append(hi)
            t += 3600
        _changes[key] = found
    return _changes[key]


def gen_start(rng, zone):
    if rng.random() < 0.6 and zone != "UTC":
        # Around a change: from 3 hours before it to 90 minutes after.
        ch = changes(zone, rng.randint(2024, 2060))
        t = rng.choice(ch) + rng.randint(-3 * 3600, 5400)
        return t * 1000 + rng.randint(0, 999), True
    t = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
    t += rng.uniform(0, 22 * 365.25 * 86400)
    return int(t * 1000), False


def main():
    tool = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(20261206)
    cases = []
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        start, near = gen_start(rng, zone)
        cases.append((gen_expr(rng, near), zone, start))
    t0 = time.monotonic()
    inp = "".join(f"{e}\t{z}\t{s}\n" for e, z, s in cases)
    out = subprocess.run([tool], input=inp, capture_output=True, text=True, check=True).stdout
    t1 = time.monotonic()
    bad = gaps = twice = 0
    for (e, z, s), got in zip(cases, out.splitlines()):
        want = py_next(e, z, s)
        if want is not None:
            zi, c = ZoneInfo(z), parse(e)
            loc = datetime.fromtimestamp(want // 1000, zi).replace(tzinfo=None)
            if not (loc.second in c[0] and loc.minute in c[1] and loc.hour in c[2] and
                    day_ok(c, loc.date())):
                gaps += 1
            elif loc.replace(tzinfo=zi, fold=1).timestamp() != loc.replace(tzinfo=zi).timestamp():
                twice += 1
        g = None if got.startswith("error") else int(got)
        if g != want:
            bad += 1
            print(f"MISMATCH {e!r} {z} after {s}: corral {got}, python {want}")
    t2 = time.monotonic()
    print(f"cron_diff: {len(cases)} cases ({gaps} fire at a gap's end, {twice} at a time that "
          f"occurs twice), {bad} mismatches; C {t1 - t0:.2f} s, python {t2 - t1:.2f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
