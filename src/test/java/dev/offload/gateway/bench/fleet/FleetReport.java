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

    /**
     * The four axes of one policy in one repetition (or their medians): budgets, answer quality,
     * device energy, GPU and cost.
     *
     * @param quality     share of all queries answered correctly
     * @param wrong       share answered wrongly (local or remote model wrong, or a cached answer of another question)
     * @param extractive  share answered extractively (never correct, counted apart)
     * @param cut         share cut off (never correct, counted apart)
     * @param cacheOther  share of all queries answered from the cache with an answer not generated for
     *                    their question (another question's, or one whose origin is unknown)
     * @param joules      device energy per query (local inference + radio)
     * @param gpuS        edge GPU-seconds per query (capacity model's full-batch rates)
     * @param dollarsPerK edge GPU time plus cloud tokens, $ per 1,000 queries
     * @param decides     decide calls per query
     * @param probes      cache-only requests per query (a question kept local asking the shared cache first)
     */
    record Axes(int queries, double met, double quality, double wrong, double extractive, double cut,
                double cacheOther, double joules, double localJ, double radioJ, double gpuS, double dollarsPerK,
                double decides, double probes, double p50, double unlabelled) {
    }

    private FleetReport() {
    }

    /** The four axes of one run. */
    static Axes axes(FleetOptions o, FleetRun.Result r) {
        List<RequestRecord> rs = r.records();
        int n = rs.size();
        Function<Predicate<RequestRecord>, Double> share = p -> n == 0 ? Double.NaN
                : rs.stream().filter(p).count() / (double) n;
        Function<java.util.function.ToDoubleFunction<RequestRecord>, Double> mean = f -> n == 0 ? Double.NaN
                : rs.stream().mapToDouble(f).sum() / n;
        double gpu = Double.NaN;
        double dollars = Double.NaN;
        if (r.policy() == Policy.LOCAL) {
            gpu = 0;
            dollars = 0;
        } else if (!r.tokens().isEmpty()) {
            double edgeGpuS = gpuSeconds(o, r.tokens().getOrDefault("edge/in", 0.0), r.tokens().getOrDefault("edge/out", 0.0));
            double cloudTokens = r.tokens().getOrDefault("cloud/in", 0.0) + r.tokens().getOrDefault("cloud/out", 0.0);
            gpu = n == 0 ? Double.NaN : edgeGpuS / n;
            dollars = n == 0 ? Double.NaN : dollars(o, edgeGpuS, cloudTokens) * 1000 / n;
        }
        Histogram e2e = new Histogram(3_600_000_000L, 3);
        rs.forEach(x -> e2e.recordValue(micros(x.e2eMs())));
        return new Axes(n, share.apply(RequestRecord::metBudget), share.apply(RequestRecord::correct),
                share.apply(x -> x.verdict().equals("wrong")), share.apply(x -> x.verdict().equals("extractive")),
                share.apply(x -> x.verdict().equals("cut-off")),
                share.apply(x -> x.route().equals("cache") && !x.cacheOrigin().equals("same")),
                mean.apply(RequestRecord::deviceJ), mean.apply(RequestRecord::localJ), mean.apply(RequestRecord::radioJ),
                gpu, dollars, mean.apply(x -> x.decideCalls()), mean.apply(x -> x.probes()), pctl(e2e, 50),
                share.apply(x -> x.verdict().equals("unlabelled")));
    }

    /** The capacity model's GPU time for these tokens: prompt / prefill rate + output / decode rate at full batch. */
    static double gpuSeconds(FleetOptions o, double promptTokens, double outputTokens) {
        return promptTokens / o.gpuPrefillTokensPerSecond + outputTokens / o.gpuTokensPerSecond;
    }

    /** Edge GPU time at the GPU-hour price plus cloud tokens at the per-million price. */
    static double dollars(FleetOptions o, double edgeGpuSeconds, double cloudTokens) {
        return edgeGpuSeconds * o.gpuPricePerHour / 3600 + cloudTokens * o.cloudPricePerMillion / 1e6;
    }

    static Axes medianAxes(List<Axes> reps) {
        if (reps.size() == 1) {
            return reps.get(0);
        }
        java.util.function.BiFunction<List<Axes>, Function<Axes, Double>, Double> m = FleetReport::medianOf;
        return new Axes((int) Math.round(m.apply(reps, a -> (double) a.queries())), m.apply(reps, Axes::met),
                m.apply(reps, Axes::quality), m.apply(reps, Axes::wrong), m.apply(reps, Axes::extractive),
                m.apply(reps, Axes::cut), m.apply(reps, Axes::cacheOther), m.apply(reps, Axes::joules),
                m.apply(reps, Axes::localJ), m.apply(reps, Axes::radioJ), m.apply(reps, Axes::gpuS),
                m.apply(reps, Axes::dollarsPerK), m.apply(reps, Axes::decides), m.apply(reps, Axes::probes), m.apply(reps, Axes::p50),
                m.apply(reps, Axes::unlabelled));
    }

    private static <T> double medianOf(List<T> reps, Function<T, Double> f) {
        double[] v = reps.stream().map(f).mapToDouble(Double::doubleValue).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Median over repetitions of the share of budgets met in one phase. */
    private static double phaseMet(List<FleetRun.Result> results, Policy p, Scenario.Phase ph) {
        List<Double> v = new ArrayList<>();
        for (FleetRun.Result r : results) {
            if (r.policy() != p) {
                continue;
            }
            List<RequestRecord> rs = r.records().stream()
                    .filter(x -> x.arrivalS() >= ph.startS() && x.arrivalS() < ph.endS()).toList();
            if (!rs.isEmpty()) {
                v.add(rs.stream().filter(RequestRecord::metBudget).count() / (double) rs.size());
            }
        }
        return medianOf(v, x -> x);
    }

    private static String fourAxes(FleetOptions o, List<FleetRun.Result> results, Map<Policy, Axes> med) {
        StringBuilder md = new StringBuilder();
        md.append("## Four axes\n\n");
        md.append(o.repeats > 1 ? "Medians over " + o.repeats + " repetitions (each figure's own median).\n\n"
                : "One repetition.\n\n");
        md.append("| policy | queries | met budget | quality (correct) | wrong | extractive | cut off | cached, not its"
                + " question | device J/query | of which local / radio | edge GPU-s/query | $ per 1,000 queries |"
                + " decide calls/query | cache probes/query | e2e p50 (ms) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Policy p : o.policies) {
            Axes a = med.get(p);
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |%n",
                    p.label, a.queries(), pct(a.met()), pct(a.quality()), pct(a.wrong()), pct(a.extractive()),
                    pct(a.cut()), pct(a.cacheOther()), num(a.joules(), 2), num(a.localJ(), 2), num(a.radioJ(), 2),
                    num(a.gpuS(), 4), num(a.dollarsPerK(), 4), num(a.decides(), 2), num(a.probes(), 2), ms(a.p50())));
        }
        md.append("\nQuality: a local answer is correct iff the device's model (RouteLLM's weak model) answered the"
                + " question correctly, an edge or cloud answer iff the gateway's (strong) did; a cached answer only"
                + " when it was generated for the same question (its origin, whatever the wording) — another"
                + " question's answer is wrong; extractive answers and cut-offs are never correct and counted apart."
                + " Device energy: local inference (class watts × seconds) plus radio (Huang et al. 2012 power model"
                + " per network type: promotion, connected time, bytes, tail cut by the next exchange). GPU-seconds:"
                + " the edge's prompt and output tokens (`gateway_generation_tokens_total`) at one replica's"
                + " full-batch rates; cost: those at the GPU-hour price plus cloud tokens.\n\n");
        if (med.values().stream().anyMatch(a -> a.unlabelled() > 0)) {
            md.append("Some questions carry no quality labels (corpus questions): quality is not meaningful here.\n\n");
        }

        md.append("### Budgets met per phase (median over repetitions)\n\n| phase |");
        for (Policy p : o.policies) {
            md.append(' ').append(p.label).append(" |");
        }
        md.append("\n|---|").append("---|".repeat(o.policies.size())).append('\n');
        for (Scenario.Phase ph : o.scenario.phases()) {
            md.append("| ").append(ph.name()).append(" |");
            for (Policy p : o.policies) {
                md.append(' ').append(pct(phaseMet(results, p, ph))).append(" |");
            }
            md.append('\n');
        }

        md.append("\n### By device class (pooled over repetitions)\n\n| policy | class | queries | met budget | quality |"
                + " device J/query | local share |\n|---|---|---|---|---|---|---|\n");
        for (Policy p : o.policies) {
            for (FleetOptions.DeviceClass c : o.deviceMix) {
                List<RequestRecord> rs = results.stream().filter(r -> r.policy() == p).flatMap(r -> r.records().stream())
                        .filter(x -> x.deviceClass() == c.tokensPerSec()).toList();
                int n = rs.size();
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s |%n", p.label, c.label(), n,
                        pct(n == 0 ? Double.NaN : rs.stream().filter(RequestRecord::metBudget).count() / (double) n),
                        pct(n == 0 ? Double.NaN : rs.stream().filter(RequestRecord::correct).count() / (double) n),
                        num(n == 0 ? Double.NaN : rs.stream().mapToDouble(RequestRecord::deviceJ).sum() / n, 2),
                        pct(n == 0 ? Double.NaN : rs.stream().filter(x -> x.route().equals("local")).count() / (double) n)));
            }
        }
        md.append('\n').append(targets(o, results, med));
        return md.toString();
    }

    /** The targets for following hints, each said to be met or not, from the figures above. */
    static String targets(FleetOptions o, List<FleetRun.Result> results, Map<Policy, Axes> med) {
        // Following hints means deciding on the device (Watch) when the run has it, else asking decide.
        Policy follow = med.containsKey(Policy.WATCH) ? Policy.WATCH : Policy.HINTS;
        StringBuilder md = new StringBuilder("### Targets (following hints: " + follow.label + ")\n\n");
        Axes h = med.get(follow);
        Axes off = med.get(Policy.OFFLOAD);
        Axes loc = med.get(Policy.LOCAL);
        if (h == null || off == null || loc == null) {
            return md.append("Needs the policies watch (or hints), offload and local in the run.\n\n").toString();
        }
        List<String> worse = new ArrayList<>();
        for (Scenario.Phase ph : o.scenario.phases()) {
            double a = phaseMet(results, follow, ph);
            double b = phaseMet(results, Policy.OFFLOAD, ph);
            if (a < b) {
                worse.add(String.format(Locale.ROOT, "%s %s vs %s", ph.name(), pct(a), pct(b)));
            }
        }
        line(md, worse.isEmpty(), "budgets met ≥ always-offload in every phase",
                worse.isEmpty() ? "every phase" : "fewer in " + String.join("; ", worse));
        line(md, h.quality() >= off.quality() - 0.01, "quality within 1 point of always-offload",
                pct(h.quality()) + " vs " + pct(off.quality()));
        double saved = off.gpuS() > 0 ? 1 - h.gpuS() / off.gpuS() : Double.NaN;
        line(md, saved >= 0.25, "≥ 25 % fewer GPU-seconds than always-offload",
                num(h.gpuS(), 4) + " vs " + num(off.gpuS(), 4) + " GPU-s/query (" + pct(saved) + " fewer)");
        line(md, h.met() >= loc.met() + 0.20, "≥ 20 points more budgets met than never-offload",
                pct(h.met()) + " vs " + pct(loc.met()));
        line(md, h.quality() > loc.quality(), "higher quality than never-offload",
                pct(h.quality()) + " vs " + pct(loc.quality()));
        line(md, h.joules() < loc.joules(), "less device energy than never-offload",
                num(h.joules(), 2) + " vs " + num(loc.joules(), 2) + " J/query");
        line(md, h.p50() <= off.p50(), "e2e p50 no worse than always-offload",
                ms(h.p50()) + " vs " + ms(off.p50()) + " ms, with " + num(h.decides(), 2) + " decide calls and "
                        + num(h.probes(), 2) + " cache probes per query");
        return md.append('\n').toString();
    }

    private static void line(StringBuilder md, boolean met, String target, String figures) {
        md.append("- ").append(met ? "**met**" : "**not met**").append(": ").append(target).append(" — ")
                .append(figures).append('\n');
    }

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", v);
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

        Map<Policy, Axes> med = new EnumMap<>(Policy.class);
        for (Policy p : o.policies) {
            List<Axes> reps = new ArrayList<>();
            for (FleetRun.Result r : results) {
                if (r.policy() == p) {
                    reps.add(axes(o, r));
                }
            }
            med.put(p, medianAxes(reps));
        }
        plots.add(FleetCharts.fourAxes(o.out, o.policies, med));

        StringBuilder md = new StringBuilder();
        md.append("# Fleet replay\n\n## Setup\n\n").append(setup).append('\n');
        md.append(fourAxes(o, results, med));
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
        md.append("| repetition | policy | queries | e2e p50 (ms) | p95 | p99 | met budget | quality | device J/query"
                + " | edge GPU-s/query | local | offloaded | cached | GPU occupancy | gateway decisions | load average after"
                + " | wall (s) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (FleetRun.Result r : results) {
            Figures f = figures(r.records(), r.samples(), o.scenario.durationS(), x -> true);
            StringBuilder d = new StringBuilder();
            r.decisions().forEach((k, v) -> {
                if (v > 0) {
                    d.append(d.length() == 0 ? "" : " ").append(k).append('=').append(Math.round(v));
                }
            });
            Axes ax = axes(o, r);
            md.append(String.format(Locale.ROOT, "| %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f |%n",
                    r.repeat() + 1, r.policy().label, f.queries(), ms(f.p50()), ms(f.p95()), ms(f.p99()), pct(f.met()),
                    pct(ax.quality()), num(ax.joules(), 2), num(ax.gpuS(), 4), pct(f.local()), pct(f.offloaded()), pct(f.cached()), occ(f.occupancy()),
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
