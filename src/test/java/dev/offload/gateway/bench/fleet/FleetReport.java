package dev.offload.gateway.bench.fleet;

import org.HdrHistogram.Histogram;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Turns the runs into files: {@code requests.csv} (one row per query), {@code occupancy.csv}
 * (one row per scrape), the PNG plots and {@code summary.md}. Percentiles come from HdrHistogram
 * (3 significant digits); figures per policy are medians over the repetitions. One thread.
 */
final class FleetReport {
    /** The figures of one policy in one repetition (or their medians). */
    record Figures(int queries, double p50, double p95, double p99, double ttftP50, double met, double local,
                   double offloaded, double cached, double edge, double cloud, double extractive, double cut,
                   double refused, double decides, double occupancy) {
    }

    private FleetReport() {
    }

    static Path write(FleetOptions o, String setup, List<FleetRun.Result> results) throws IOException {
        Files.createDirectories(o.out);
        try (BufferedWriter w = Files.newBufferedWriter(o.out.resolve("requests.csv"))) {
            w.write(RequestRecord.CSV_HEADER);
            w.newLine();
            for (FleetRun.Result r : results) {
                for (RequestRecord rec : r.records()) {
                    w.write(rec.csv());
                    w.newLine();
                }
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(o.out.resolve("occupancy.csv"))) {
            w.write("policy,repeat,t_s,edge_occupancy,edge_queue");
            w.newLine();
            for (FleetRun.Result r : results) {
                for (FleetRun.Sample s : r.samples()) {
                    w.write(String.format(Locale.ROOT, "%s,%d,%.3f,%s,%s", r.policy().wire, r.repeat(), s.atS(),
                            Double.isNaN(s.occupancy()) ? "" : String.format(Locale.ROOT, "%.4f", s.occupancy()),
                            Double.isNaN(s.queue()) ? "" : String.format(Locale.ROOT, "%.0f", s.queue())));
                    w.newLine();
                }
            }
        }

        Map<Policy, List<RequestRecord>> byPolicy = new EnumMap<>(Policy.class);
        Map<Policy, List<FleetRun.Sample>> samples = new EnumMap<>(Policy.class);
        for (Policy p : o.policies) {
            byPolicy.put(p, new ArrayList<>());
            samples.put(p, new ArrayList<>());
        }
        for (FleetRun.Result r : results) {
            byPolicy.get(r.policy()).addAll(r.records());
            samples.get(r.policy()).addAll(r.samples());
        }
        List<Path> plots = new ArrayList<>();
        plots.add(FleetCharts.latencyCdf(o.out, byPolicy));
        for (Policy p : o.policies) {
            plots.add(FleetCharts.routes(o.out, p, byPolicy.get(p), o.bucketS, o.scenario.durationS()));
        }
        plots.add(FleetCharts.occupancy(o.out, samples, o.bucketS, o.scenario));

        StringBuilder md = new StringBuilder();
        md.append("# Fleet replay\n\n## Setup\n\n").append(setup).append('\n');
        md.append("## Results\n\n");
        md.append(o.repeats > 1 ? "Medians over " + o.repeats + " repetitions (each figure's own median).\n\n"
                : "One repetition.\n\n");
        md.append("| policy | queries | e2e p50 (ms) | p95 | p99 | TTFT p50 | met budget | local | offloaded | cached"
                + " | of which edge / cloud / extractive | refused (429/503) | decide calls | cut off | GPU occupancy |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Policy p : o.policies) {
            List<Figures> reps = new ArrayList<>();
            for (FleetRun.Result r : results) {
                if (r.policy() == p) {
                    reps.add(figures(r.records(), r.samples(), o.scenario.durationS(), x -> true));
                }
            }
            Figures f = median(reps);
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s | %s | %s |%n",
                    p.label, f.queries(), ms(f.p50()), ms(f.p95()), ms(f.p99()), ms(f.ttftP50()), pct(f.met()),
                    pct(f.local()), pct(f.offloaded()), pct(f.cached()), pct(f.edge()), pct(f.cloud()),
                    pct(f.extractive()), pct(f.refused()), pct(f.decides()), pct(f.cut()), occ(f.occupancy())));
        }
        md.append("\nShares are of all queries. \"offloaded\" = answered by a gateway tier (edge, cloud, or the"
                + " gateway's extractive fallback); \"cached\" = answered from the gateway's cache; \"refused\" = the"
                + " gateway answered 429/503 and the device then answered locally (counted in local); \"decide"
                + " calls\" = queries that needed a `/v1/offload/decide` first (the rest reused a valid hint or had"
                + " none to ask for); GPU occupancy = mean of `gateway_backend_batch_occupancy` (edge) over the"
                + " scenario's duration, – where the policy never calls the gateway.\n\n");

        md.append("## Per phase\n\nPooled over repetitions.\n\n");
        md.append("| phase | policy | queries | e2e p50 (ms) | p95 | met budget | local | offloaded | cached | GPU occupancy |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Scenario.Phase ph : o.scenario.phases()) {
            for (Policy p : o.policies) {
                List<FleetRun.Sample> s = samples.get(p).stream()
                        .filter(x -> x.atS() >= ph.startS() && x.atS() < ph.endS()).toList();
                Figures f = figures(byPolicy.get(p), s, Double.POSITIVE_INFINITY,
                        r -> r.arrivalS() >= ph.startS() && r.arrivalS() < ph.endS());
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |%n",
                        ph.name(), p.label, f.queries(), ms(f.p50()), ms(f.p95()), pct(f.met()), pct(f.local()),
                        pct(f.offloaded()), pct(f.cached()), occ(f.occupancy())));
            }
        }

        md.append("\n## Per repetition\n\n");
        md.append("| repetition | policy | queries | e2e p50 (ms) | p95 | p99 | met budget | local | offloaded | cached"
                + " | GPU occupancy | gateway decisions | load average after | wall (s) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (FleetRun.Result r : results) {
            Figures f = figures(r.records(), r.samples(), o.scenario.durationS(), x -> true);
            StringBuilder d = new StringBuilder();
            r.decisions().forEach((k, v) -> {
                if (v > 0) {
                    d.append(d.length() == 0 ? "" : " ").append(k).append('=').append(Math.round(v));
                }
            });
            md.append(String.format(Locale.ROOT, "| %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f |%n",
                    r.repeat() + 1, r.policy().label, f.queries(), ms(f.p50()), ms(f.p95()), ms(f.p99()), pct(f.met()),
                    pct(f.local()), pct(f.offloaded()), pct(f.cached()), occ(f.occupancy()),
                    d.length() == 0 ? "–" : d, r.loadAverage(), r.wallS()));
        }

        md.append("\n## Plots\n\n");
        for (Path p : plots) {
            String name = p.getFileName().toString();
            md.append("![").append(name.replace(".png", "")).append("](").append(name).append(")\n\n");
        }
        md.append("## Files\n\n- `requests.csv`: one row per query (header: `").append(RequestRecord.CSV_HEADER)
                .append("`)\n- `occupancy.csv`: one row per scrape of `/q/metrics`\n");
        Path summary = o.out.resolve("summary.md");
        Files.writeString(summary, md.toString());
        return summary;
    }

    /** Figures of the records that pass {@code filter}; occupancy from samples inside [0, until). */
    static Figures figures(List<RequestRecord> all, List<FleetRun.Sample> samples, double untilS,
                           Predicate<RequestRecord> filter) {
        List<RequestRecord> rs = all.stream().filter(filter).toList();
        Histogram e2e = new Histogram(3_600_000_000L, 3);
        Histogram ttft = new Histogram(3_600_000_000L, 3);
        for (RequestRecord r : rs) {
            e2e.recordValue(micros(r.e2eMs()));
            if (!Double.isNaN(r.ttftMs())) {
                ttft.recordValue(micros(r.ttftMs()));
            }
        }
        int n = rs.size();
        Function<Predicate<RequestRecord>, Double> share = p -> n == 0 ? Double.NaN
                : rs.stream().filter(p).count() / (double) n;
        double occ = samples.stream().filter(s -> !Double.isNaN(s.occupancy()) && s.atS() >= 0 && s.atS() < untilS)
                .mapToDouble(FleetRun.Sample::occupancy).average().orElse(Double.NaN);
        return new Figures(n, pctl(e2e, 50), pctl(e2e, 95), pctl(e2e, 99), pctl(ttft, 50),
                share.apply(RequestRecord::metBudget), share.apply(r -> r.route().equals("local")),
                share.apply(RequestRecord::offloaded), share.apply(r -> r.route().equals("cache")),
                share.apply(r -> r.route().equals("edge")), share.apply(r -> r.route().equals("cloud")),
                share.apply(r -> r.route().equals("extractive")), share.apply(r -> r.route().equals("cut-off")),
                share.apply(r -> r.why().equals("refused")), share.apply(r -> r.hintSource().equals("decided")), occ);
    }

    /** Each figure's median over the repetitions. */
    static Figures median(List<Figures> reps) {
        if (reps.size() == 1) {
            return reps.get(0);
        }
        return new Figures((int) Math.round(med(reps, f -> (double) f.queries())), med(reps, Figures::p50),
                med(reps, Figures::p95), med(reps, Figures::p99), med(reps, Figures::ttftP50), med(reps, Figures::met),
                med(reps, Figures::local), med(reps, Figures::offloaded), med(reps, Figures::cached),
                med(reps, Figures::edge), med(reps, Figures::cloud), med(reps, Figures::extractive),
                med(reps, Figures::cut), med(reps, Figures::refused), med(reps, Figures::decides),
                med(reps, Figures::occupancy));
    }

    private static double med(List<Figures> reps, Function<Figures, Double> f) {
        double[] v = reps.stream().map(f).mapToDouble(Double::doubleValue).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static long micros(double ms) {
        return Math.max(0, Math.min(3_600_000_000L, Math.round(ms * 1000)));
    }

    private static double pctl(Histogram h, double q) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(q) / 1000.0;
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f %%", v * 100);
    }

    private static String occ(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String describeCounts(List<Workload.Arrival> w) {
        long[] kinds = new long[QuestionPool.Kind.values().length];
        Map<String, Long> origins = new java.util.TreeMap<>();
        Map<String, Long> levels = new java.util.TreeMap<>();
        int withHistory = 0;
        for (Workload.Arrival a : w) {
            kinds[a.kind().ordinal()]++;
            origins.merge(a.origin(), 1L, Long::sum);
            levels.merge(a.sensitivity(), 1L, Long::sum);
            if (!a.history().isEmpty()) {
                withHistory++;
            }
        }
        return String.format(Locale.ROOT, "%d queries; kinds short/long/multi-hop %s; origin %s; sensitivity %s; with"
                + " history %d", w.size(), Arrays.toString(kinds), origins, levels, withHistory);
    }
}
