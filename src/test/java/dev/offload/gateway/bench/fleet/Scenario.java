package dev.offload.gateway.bench.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The fleet's timeline: consecutive phases, each with a network profile and a load factor, plus
 * bursts that multiply the arrival rate for a while. Immutable; any thread.
 *
 * <p>Timeline syntax: {@code network:seconds[:loadFactor]} separated by commas, for example
 * {@code wifi:30,wifi:30:3,lte:30,3g:30,offline:20}. Bursts: {@code startS:seconds:factor}
 * separated by commas, for example {@code 100:5:4}.
 */
record Scenario(List<Phase> phases, List<Burst> bursts) {

    /** Typical figures per network type: round trip to the edge, downlink and uplink (kbit/s). */
    record NetworkProfile(String type, double rttMs, double downKbps, double upKbps, double rttJitter) {
        static NetworkProfile of(String type) {
            return switch (type.toLowerCase(Locale.ROOT)) {
                case "wifi" -> new NetworkProfile("wifi", 12, 50_000, 20_000, 0.3);
                case "5g" -> new NetworkProfile("5g", 25, 100_000, 20_000, 0.3);
                case "lte" -> new NetworkProfile("lte", 60, 12_000, 3_000, 0.4);
                case "3g" -> new NetworkProfile("3g", 350, 800, 200, 0.5);
                case "offline" -> new NetworkProfile("offline", 0, 0, 0, 0);
                default -> throw new IllegalArgumentException("network must be wifi, 5g, lte, 3g or offline: " + type);
            };
        }

        boolean offline() {
            return type.equals("offline");
        }
    }

    record Phase(String name, double startS, double durationS, NetworkProfile network, double loadFactor) {
        Phase {
            if (durationS <= 0 || loadFactor < 0) {
                throw new IllegalArgumentException("a phase needs a positive duration and a load factor >= 0");
            }
        }

        double endS() {
            return startS + durationS;
        }
    }

    record Burst(double startS, double durationS, double factor) {
        Burst {
            if (startS < 0 || durationS <= 0 || factor < 0) {
                throw new IllegalArgumentException("a burst needs start >= 0, a positive duration and a factor >= 0");
            }
        }
    }

    Scenario {
        phases = List.copyOf(phases);
        bursts = List.copyOf(bursts);
        if (phases.isEmpty()) {
            throw new IllegalArgumentException("the timeline needs at least one phase");
        }
    }

    static Scenario parse(String timeline, String bursts) {
        List<Phase> phases = new ArrayList<>();
        double t = 0;
        for (String entry : timeline.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String[] f = entry.strip().split(":");
            if (f.length < 2 || f.length > 3) {
                throw new IllegalArgumentException("timeline entry must be network:seconds[:loadFactor]: " + entry);
            }
            NetworkProfile net = NetworkProfile.of(f[0]);
            double d = Double.parseDouble(f[1]);
            double load = f.length == 3 ? Double.parseDouble(f[2]) : 1;
            String name = net.type() + (load == 1 ? "" : String.format(Locale.ROOT, " ×%s", trim(load)));
            phases.add(new Phase(name, t, d, net, load));
            t += d;
        }
        List<Burst> bs = new ArrayList<>();
        if (bursts != null) {
            for (String entry : bursts.split(",")) {
                if (entry.isBlank()) {
                    continue;
                }
                String[] f = entry.strip().split(":");
                if (f.length != 3) {
                    throw new IllegalArgumentException("burst must be startS:seconds:factor: " + entry);
                }
                bs.add(new Burst(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])));
            }
        }
        return new Scenario(phases, bs);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    double durationS() {
        return phases.get(phases.size() - 1).endS();
    }

    /** The phase at {@code s} seconds (the last one past the end, the first one before 0). */
    Phase phaseAt(double s) {
        for (Phase p : phases) {
            if (s < p.endS()) {
                return p;
            }
        }
        return phases.get(phases.size() - 1);
    }

    int phaseIndex(Phase p) {
        return phases.indexOf(p);
    }

    /** Multiplier of the base arrival rate at {@code s}: the phase's load factor times every active burst. */
    double rateFactor(double s) {
        double f = phaseAt(s).loadFactor();
        for (Burst b : bursts) {
            if (s >= b.startS() && s < b.startS() + b.durationS()) {
                f *= b.factor();
            }
        }
        return f;
    }

    double maxRateFactor() {
        double max = 0;
        for (Phase p : phases) {
            double f = p.loadFactor();
            for (Burst b : bursts) {
                if (b.startS() < p.endS() && b.startS() + b.durationS() > p.startS()) {
                    f *= b.factor();
                }
            }
            max = Math.max(max, f);
        }
        return max;
    }

    /** One line for reports: {@code wifi 0–30 s, wifi ×3 30–60 s, …; bursts ×4 at 100–105 s}. */
    String describe() {
        StringBuilder sb = new StringBuilder();
        for (Phase p : phases) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %s–%s s", p.name(),
                    trim(p.startS()), trim(p.endS())));
        }
        for (int i = 0; i < bursts.size(); i++) {
            Burst b = bursts.get(i);
            sb.append(i == 0 ? "; bursts " : ", ").append(String.format(Locale.ROOT, "×%s at %s–%s s", trim(b.factor()),
                    trim(b.startS()), trim(b.startS() + b.durationS())));
        }
        return sb.toString();
    }
}
