package dev.offload.gateway.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The operations of {@link RetrievalBenchmark} (same index, queries, settings and state
 * classes) timed by the calling thread's own CPU time as well as the wall clock, in interleaved
 * rounds. On a machine shared with other builds, wall-clock time per operation grows with the
 * load (a longer operation is more often descheduled), while thread CPU time does not: this is
 * the cross-check of the JMH figures. Every operation runs single-threaded (Lucene without an
 * executor, one JVector searcher), so thread CPU time is its whole cost.
 *
 * <p>Each round runs every operation over all queries {@code --passes} times, in an order
 * rotated every round; {@code --warmup} untimed rounds first.
 *
 * <pre>./mvnw -q test-compile exec:exec@retrieval-cpu -Dbench.args="--rounds 7"</pre>
 */
public final class RetrievalCpuTime {
    private interface Op {
        Object run(int query) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Args.parse(args);
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "7"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "5"));
        int passes = Integer.parseInt(opts.getOrDefault("passes", "4"));

        RetrievalBenchmark bench = new RetrievalBenchmark();
        RetrievalBenchmark.Corpus c = new RetrievalBenchmark.Corpus();
        c.setUp();
        RetrievalBenchmark.Graph g = new RetrievalBenchmark.Graph();
        g.setUp(c);
        RetrievalBenchmark.Cursor q = new RetrievalBenchmark.Cursor();
        Map<String, Op> ops = new LinkedHashMap<>();
        ops.put("hybrid", i -> bench.hybrid(c, q));
        ops.put("sparseCandidates", i -> bench.sparseCandidates(c, q));
        ops.put("denseCandidates", i -> bench.denseCandidates(c, q));
        ops.put("fuseConvex", i -> bench.fuseConvex(c, q));
        ops.put("fuseRrf", i -> bench.fuseRrf(c, q));
        ops.put("sparseTop10", i -> bench.sparseTop10(c, q));
        ops.put("denseTop10", i -> bench.denseTop10(c, q));
        ops.put("graphOnly", i -> bench.graphOnly(c, g, q));
        List<String> names = new ArrayList<>(ops.keySet());
        int n = c.queries.length * passes;

        System.out.printf("# Retrieval operations, thread CPU and wall time: %s%n", Hardware.describe());
        System.out.printf("load average at start: %s%n", Hardware.loadAverage());
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[][] cpu = new double[names.size()][rounds];
        double[][] wall = new double[names.size()][rounds];
        int sink = 0;
        for (int r = -warmup; r < rounds; r++) {
            for (int j = 0; j < names.size(); j++) {
                int v = Math.floorMod(j + r, names.size());
                Op op = ops.get(names.get(v));
                q.next = 0;
                long c0 = mx.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    sink += Objects.hashCode(op.run(i)) & 1;
                }
                long w = System.nanoTime() - t0;
                long cp = mx.getCurrentThreadCpuTime() - c0;
                if (r >= 0) {
                    cpu[v][r] = cp / 1e3 / n;
                    wall[v][r] = w / 1e3 / n;
                }
            }
        }
        System.out.printf("%n%d rounds (after %d warm-up rounds) of %d operations each; load average at end: %s%n%n",
                rounds, warmup, n, Hardware.loadAverage());
        System.out.println("| operation | µs/op, thread CPU (median) | ÷ hybrid (CPU) | µs/op, wall (median) | wall ÷ CPU |");
        System.out.println("|---|---|---|---|---|");
        double hybridCpu = median(cpu[0]);
        for (int v = 0; v < names.size(); v++) {
            System.out.printf("| %s | %.1f | %.3f | %.1f | %.2f |%n", names.get(v), median(cpu[v]),
                    median(cpu[v]) / hybridCpu, median(wall[v]), median(wall[v]) / median(cpu[v]));
        }
        System.out.println(sink == -1 ? "" : "");
        c.tearDown();
        g.tearDown();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
