#!/usr/bin/env python3
"""Turns the error-storm test's summaries (target/storm/*.json, written by
tests/stack/hospital_storm.rs) into the markdown of bench-results/.

Usage: storm-report.py [--title T] summary.json [more.json ...]
"""
import argparse
import json
import platform


def row(cells):
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def share(value):
    return "%.2f %%" % (100.0 * value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--title", default="Error storm (F2)")
    parser.add_argument("summaries", nargs="+")
    args = parser.parse_args()
    rounds = []
    for path in args.summaries:
        with open(path, encoding="utf-8") as source:
            rounds.append((path, json.load(source)))

    out = ["# " + args.title, ""]
    out.append("Command: `scripts/storm-soak.sh [minutes]` (rounds of "
               "`cargo test --test stack hospital_storm -- --ignored`); the CI "
               "run is one 10-minute round. Machine: %s, %s." % (platform.machine(), platform.platform()))
    out.append("")
    out.append("The pump infuses at 25 mL/h on the real simulator, supervisor, app and "
               "perfuse-link (debug builds, as the tests run them) while the gateway "
               "misbehaves in slices, with the link idle (the gateway behaving) for a few "
               "seconds between two slices, so that the machine's own noise falls on both "
               "alike. The gateway runs on CPU 0; the control thread is pinned to CPU 1.")
    out.append("")
    for path, summary in rounds:
        idle, storm = summary["idle"], summary["storm"]
        out.append("## %s" % path)
        out.append("")
        out.append(row(["", "link idle", "storm"]))
        out.append(row(["---", "---", "---"]))
        out.append(row(["time, s", "%.0f" % idle["seconds"], "%.0f" % storm["seconds"]]))
        out.append(row(["control thread wake-ups", idle["wakeups"], storm["wakeups"]]))
        out.append(row(["wake-up lateness p99, us", idle["latency_p99_us"], storm["latency_p99_us"]]))
        out.append(row(["wake-up lateness p99.9, us", idle["latency_p99.9_us"], storm["latency_p99.9_us"]]))
        out.append(row(["wake-up lateness max, us (2047: 2047 or more)", idle["latency_max_us"], storm["latency_max_us"]]))
        out.append(row(["link CPU", share(idle["link_cpu_share"]), share(storm["link_cpu_share"])]))
        out.append(row(["app CPU", share(idle["app_cpu_share"]), share(storm["app_cpu_share"])]))
        out.append(row(["host steal", share(idle["host_steal_share"]), share(storm["host_steal_share"])]))
        rss = summary["rss_kb"]
        out.append(row(["link RSS, kB (baseline / most)", rss["link"]["baseline"], rss["link"]["most"]]))
        out.append(row(["app RSS, kB (baseline / most)", rss["app"]["baseline"], rss["app"]["most"]]))
        out.append("")
        halves = summary["idle_halves"]
        out.append("The machine's own noise: the p99.9 of the two halves of the idle time "
                   "(alternate idle slices) is %s us and %s us." % (
                       halves[0]["latency_p99.9_us"], halves[1]["latency_p99.9_us"]))
        out.append("")
        out.append(row(["misbehaviour", "s", "wake-ups", "p99 us", "p99.9 us", "max us", "link CPU"]))
        out.append(row(["---"] * 7))
        for name, tally in sorted(summary["by_behaviour"].items()):
            out.append(row([name, "%.0f" % tally["seconds"], tally["wakeups"], tally["latency_p99_us"],
                            tally["latency_p99.9_us"], tally["latency_max_us"], share(tally["link_cpu_share"])]))
        out.append("")
        gateway = summary["gateway"]
        health = (summary.get("link_after") or {}).get("health") or {}
        out.append("What the gateway did: %s TCP connections, %s TLS handshakes completed and "
                   "%s failed, %s connections reset, %s malformed messages and %s valid status "
                   "queries written whole, %s bytes of garbage and half frames, %s bytes "
                   "trickled." % (gateway["connections"], gateway["handshakes"],
                                  gateway["handshakes_failed"], gateway["resets"],
                                  gateway["malformed"], gateway["queries"],
                                  gateway["garbage_bytes"], gateway["trickled_bytes"]))
        out.append("")
        out.append("What the link counted: %s connections, %s failed, %s messages refused "
                   "(read and refused, or dropped unread past 50 a second; a peer past 500 a "
                   "second is cut), %s messages sent and acknowledged, %s statuses replaced by "
                   "a newer one while it could not send." % (
                       health.get("connections"), health.get("failed_connections"),
                       health.get("messages_refused"), health.get("messages_sent"),
                       health.get("statuses_dropped")))
        out.append("")
        recovery = summary["recovery_s"]
        out.append("Recovery: the link's first status after the gateway behaves again came "
                   "within %.2f s at most (%.2f s on average). Supervisor trips: %s. Delivered "
                   "%.3f mL against %.3f mL for the time at 25 mL/h." % (
                       recovery["most"], recovery["mean"], summary["supervisor_trips"],
                       summary["delivered_ml"], summary["expected_ml"]))
        frozen = summary.get("supervisor_trips_in_host_freezes", [])
        if frozen:
            out.append("")
            out.append("Trips while the host froze the machine (a CPU held by a SCHED_FIFO 95 "
                       "watcher stood still; the nurse resumed the kept program, and the run "
                       "fails on more than two or on any other trip):")
            for trip in frozen:
                out.append("- the host froze %s ms: `%s`" % (trip["host_froze_ms"], trip["trip"]))
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
