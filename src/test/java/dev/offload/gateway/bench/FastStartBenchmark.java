package dev.offload.gateway.bench;

import dev.offload.gateway.retrieval.HybridIndex;
import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.VectorIndexOptions;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Restart-to-ready of the index with N chunks, old path (graph rebuilt from the stored vectors,
 * as before the graph was persisted) against new path (graph opened from the file persisted with
 * the commit), side by side, each restart in a fresh JVM.
 *
 * <p>{@code ./mvnw -q test-compile exec:exec@fast-start -Dbench.args="--chunks 100000 --runs 3"}
 *
 * <p>Options: {@code --chunks} (100000), {@code --dim} (384, MiniLM's), {@code --runs} per path
 * (3), {@code --dir} (target/fast-start; an index of the same size there is reused),
 * {@code --old-runs} (as {@code --runs}: a rebuild of 100k takes minutes), {@code --build-java}
 * (the JVM that builds the index once; the restarts run on this JVM's java). The vectors are synthetic (seeded Gaussian, normalised by the index): embedding 100k
 * chunks with the in-process model takes about 5 minutes on two cores and would not change
 * what is timed here, which never embeds.
 *
 * <p>Ready is what the gateway's readiness waits for: {@link HybridIndex#open} returned (graph
 * opened or rebuilt, the write-ahead log replayed). Each child reports that and the time since
 * its JVM started, and a digest of 20 queries' dense top 10 so the runs can be compared.
 *
 * <p>{@code --gateway-runs} (3; 0 skips it) then starts the whole packaged gateway
 * ({@code --jar}, default {@code target/quarkus-app/quarkus-run.jar}: run {@code ./mvnw package
 * -DskipTests} first) on a copy of the same index, no generation tier, and times launch →
 * {@code /q/health/ready} answering 200 (polled every 50 ms), then the first {@code /v1/search}
 * after ready (it embeds the query with the in-process model) and checks that the gateway serves
 * the index's chunks. The phases come from the gateway's own log: Quarkus' "started in" and the
 * index's "opened … in N ms". {@code --baseline-jar} (another build's {@code quarkus-run.jar})
 * takes turns with {@code --jar}, run by run, so the two are compared on the same machine state.
 * {@code --index-model} and {@code --baseline-index-model} label the copy with the model each jar
 * embeds with by default (defaults {@code bge-small-en-v1.5-q} and {@code none}: no label, read as
 * all-MiniLM-L6-v2 by a gateway, the default before bge), so each jar starts on its defaults.
 */
public final class FastStartBenchmark {
    private static final String TENANT = "bench";
    private static final int CHUNKS_PER_DOC = 4;
    /** Documents per write batch of the build (one local log sequence each). */
    private static final int DEFAULT_BATCH = 250;

    private FastStartBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child-build")) {
            build(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    args.length > 4 ? Integer.parseInt(args[4]) : DEFAULT_BATCH);
            return;
        }
        if (args.length > 0 && args[0].equals("child-open")) {
            openOnce(Path.of(args[1]), Integer.parseInt(args[2]));
            return;
        }
        if (args.length > 0 && args[0].equals("child-rebuild")) { // build step 2: the real graph, in parallel
            openOnce(Path.of(args[1]), Integer.parseInt(args[2]));
            return;
        }
        Map<String, String> a = Args.parse(args);
        int chunks = Integer.parseInt(a.getOrDefault("chunks", "100000"));
        int dim = Integer.parseInt(a.getOrDefault("dim", "384"));
        int runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        int oldRunCount = Integer.parseInt(a.getOrDefault("old-runs", Integer.toString(runs)));
        Path dir = Path.of(a.getOrDefault("dir", "target/fast-start")).toAbsolutePath();
        String java = GatewayLauncher.currentJava();
        String buildJava = a.getOrDefault("build-java", java);
        Path data = dir.resolve("index-" + chunks + "x" + dim);
        Path marker = data.resolve("built");
        System.out.printf("fast start: %d chunks x %d dims, %d runs per path, restarts on %s (Java %s), %d cores%n",
                chunks, dim, runs, java, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        if (!Files.exists(marker)) {
            deleteTree(data);
            long t0 = System.nanoTime();
            String out = child(buildJava, "child-build", data.toString(), Integer.toString(chunks), Integer.toString(dim));
            System.out.println("built: " + out.strip());
            deleteTree(data.resolve("graph")); // the throw-away graph of step 1
            String rebuilt = child(buildJava, "child-rebuild", data.toString(), Integer.toString(dim));
            System.out.printf("graph built and persisted (%s); build took %d s%n", rebuilt.strip(), (System.nanoTime() - t0) / 1_000_000_000);
            Files.writeString(marker, out);
        } else {
            System.out.println("reusing " + data);
        }
        if (!Files.isDirectory(data.resolve("graph"))) { // a build interrupted between its two steps
            String rebuilt = child(buildJava, "child-rebuild", data.toString(), Integer.toString(dim));
            System.out.printf("graph built and persisted (%s)%n", rebuilt.strip());
        }
        Path graph = data.resolve("graph");
        Path keep = dir.resolve("graph-kept-" + chunks + "x" + dim);
        deleteTree(keep);
        copyTree(graph, keep);
        List<long[]> oldRuns = new ArrayList<>();
        List<long[]> newRuns = new ArrayList<>();
        String digestNew = null;
        String digestOld = null;
        for (int r = 0; r < runs; r++) {
            // New path: the graph persisted with the commit, as the build left it.
            deleteTree(graph);
            copyTree(keep, graph);
            String[] n = child(java, "child-open", data.toString(), Integer.toString(dim)).strip().split(" ");
            newRuns.add(new long[]{Long.parseLong(n[1]), Long.parseLong(n[2])});
            if (digestNew != null && !digestNew.equals(n[3])) {
                throw new IllegalStateException("two openings of the same graph answered differently");
            }
            digestNew = n[3];
            System.out.printf("run %d new: open %s ms, ready %s ms after JVM start, graph %s%n", r + 1, n[1], n[2],
                    String.join(" ", Arrays.copyOfRange(n, 4, n.length)));
        }
        for (int r = 0; r < oldRunCount; r++) {
            // Old path: no graph file, so the restart rebuilds (then persists what it rebuilt).
            deleteTree(graph);
            String[] o = child(java, "child-open", data.toString(), Integer.toString(dim)).strip().split(" ");
            oldRuns.add(new long[]{Long.parseLong(o[1]), Long.parseLong(o[2])});
            digestOld = o[3];
            System.out.printf("run %d old: open %s ms, ready %s ms after JVM start, graph %s%n", r + 1, o[1], o[2],
                    String.join(" ", Arrays.copyOfRange(o, 4, o.length)));
        }
        deleteTree(graph);
        copyTree(keep, graph);
        int gatewayRuns = Integer.parseInt(a.getOrDefault("gateway-runs", "3"));
        Path jar = Path.of(a.getOrDefault("jar", "target/quarkus-app/quarkus-run.jar"));
        Path baselineJar = a.containsKey("baseline-jar") ? Path.of(a.get("baseline-jar")) : null;
        // The synthetic vectors fit any 384-dimension model: the index is labelled with each jar's default
        // (none = no label, which a gateway reads as an index of before the label, all-MiniLM-L6-v2).
        String indexModel = a.getOrDefault("index-model", "bge-small-en-v1.5-q");
        String baselineIndexModel = a.getOrDefault("baseline-index-model", "none");
        List<long[]> gatewayTimes = new ArrayList<>();
        List<long[]> baselineTimes = new ArrayList<>();
        for (int r = 0; r < gatewayRuns; r++) {
            // With a baseline, the two jars take turns, so both see the same machine.
            for (Path j : baselineJar == null ? List.of(jar) : List.of(baselineJar, jar)) {
                long[] t = wholeGateway(java, j, data, dir, r, j == baselineJar ? baselineIndexModel : indexModel);
                (j == baselineJar ? baselineTimes : gatewayTimes).add(t);
                System.out.printf("run %d gateway%s: ready %d ms after launch (Quarkus started in %d ms, index opened in %d ms),"
                        + " first search %d ms, load average %.2f%n", r + 1, j == baselineJar ? " (baseline)" : "", t[0], t[1], t[2],
                        t[3], loadAverage());
            }
        }
        System.out.println();
        System.out.println("| path | index open, median (runs) | ready after JVM start, median |");
        System.out.println("|---|---|---|");
        if (!oldRuns.isEmpty()) {
            System.out.printf("| old: graph rebuilt from stored vectors | %s | %s |%n", median(oldRuns, 0), median(oldRuns, 1));
        }
        System.out.printf("| new: graph opened from its file | %s | %s |%n", median(newRuns, 0), median(newRuns, 1));
        if (!gatewayTimes.isEmpty()) {
            System.out.println();
            System.out.println(baselineJar == null ? "| whole gateway (packaged jar) | median (runs) |"
                    : "| whole gateway (packaged jar) | median (runs) | baseline " + baselineJar + " |");
            System.out.println(baselineJar == null ? "|---|---|" : "|---|---|---|");
            String[] rows = {"launch to ready", "of which Quarkus started in", "of which the index opened in", "first search after ready"};
            for (int f = 0; f < rows.length; f++) {
                System.out.printf("| %s | %s |%s%n", rows[f], median(gatewayTimes, f),
                        baselineJar == null ? "" : " " + median(baselineTimes, f) + " |");
            }
        }
        System.out.println("every new-path run answered the same 20 queries identically (digest " + digestNew + ")"
                + (oldRuns.isEmpty() ? "" : digestNew.equals(digestOld) ? "; so did the rebuilt graphs"
                        : "; rebuilt graphs differ (another graph, same vectors)"));
    }

    /**
     * One launch of the packaged gateway on a copy of {@code data}: {ready after launch, Quarkus
     * "started in", index "opened in", first search} in ms.
     */
    private static long[] wholeGateway(String java, Path jar, Path data, Path dir, int run, String model) throws Exception {
        Path work = dir.resolve("gateway-run");
        deleteTree(work);
        Path copy = work.resolve("index");
        copyTree(data, copy);
        Files.deleteIfExists(copy.resolve("built"));
        if (!model.equals("none")) {
            Files.writeString(copy.resolve("embedding-model.properties"), "model=" + model + "\ndimension=" + DIM_OF_MODELS + "\n");
        }
        String key = "fast-start-" + run;
        Path keys = Files.writeString(work.resolve("keys"),
                dev.offload.gateway.security.KeyRing.sha256Hex(key) + " " + TENANT + " device\n");
        int port = ChildProcess.freePort();
        long t0 = System.nanoTime();
        try (ChildProcess gw = GatewayLauncher.start(java, jar, "-Xmx3g", port, work, "fast-start",
                Map.of("gateway.data-dir", copy.toString(), "gateway.auth.keys-file", keys.toString()), Duration.ZERO)) {
            String ready = "http://127.0.0.1:" + GatewayLauncher.managementPort(port) + "/q/health/ready";
            while (!ChildProcess.getOk(ready)) {
                if (!gw.isAlive()) {
                    throw new IllegalStateException("the gateway exited before it was ready; see " + gw.log());
                }
                if (System.nanoTime() - t0 > 300_000_000_000L) {
                    throw new IllegalStateException("the gateway was not ready within 300 s; see " + gw.log());
                }
                Thread.sleep(50);
            }
            long readyMs = (System.nanoTime() - t0) / 1_000_000;
            long s0 = System.nanoTime();
            HttpResponse<String> search = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/search"))
                            .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"query\":\"synthetic chunk of document about topic\",\"k\":10}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            long searchMs = (System.nanoTime() - s0) / 1_000_000;
            if (search.statusCode() != 200 || !search.body().contains("\"documentId\":\"doc-")) {
                throw new IllegalStateException("the first search did not serve the index (" + search.statusCode() + "): "
                        + search.body() + "; see " + gw.log());
            }
            String log = Files.readString(gw.log());
            return new long[]{readyMs, logMillis(log, "started in (\\d+\\.\\d+)s", 1000),
                    logMillis(log, "log records replayed in (\\d+) ms", 1), searchMs};
        }
    }

    /** The dimension of every shipped model (all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2). */
    private static final int DIM_OF_MODELS = 384;

    private static long logMillis(String log, String regex, int scale) {
        Matcher m = Pattern.compile(regex).matcher(log);
        if (!m.find()) {
            throw new IllegalStateException("the gateway's log has no line matching " + regex);
        }
        return Math.round(Double.parseDouble(m.group(1)) * scale);
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static String median(List<long[]> runs, int field) {
        long[] v = runs.stream().mapToLong(r -> r[field]).sorted().toArray();
        String all = Arrays.toString(runs.stream().mapToLong(r -> r[field]).toArray());
        return String.format("%.1f s %s ms", v[v.length / 2] / 1000.0, all);
    }

    private static String child(String java, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx3g",
                "-cp", System.getProperty("java.class.path"), FastStartBenchmark.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("child " + String.join(" ", args) + " failed: " + out);
        }
        return out.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("child said nothing: " + out));
    }

    private static void build(Path data, int chunks, int dim, int batchDocs) throws IOException {
        long t0 = System.nanoTime();
        // Step 1 writes Lucene and the log through the real write path, with a throw-away graph of
        // degree 2 (inserting one node at a time into the real graph takes half an hour here);
        // step 2 opens the index without it, which builds the real graph in parallel and persists it.
        try (HybridIndex index = HybridIndex.open(data, dim, new VectorIndexOptions(2, 2, 1f, 1f, 1f, 1))) {
            int[] written = {0};
            syntheticBatches(chunks, dim, batchDocs, batch -> {
                index.upsert(TENANT, batch);
                int before = written[0];
                written[0] += batch.stream().mapToInt(d -> d.chunks().size()).sum();
                if (written[0] / 10_000 != before / 10_000) {
                    System.err.printf("[build] %d chunks in %d s%n", written[0], (System.nanoTime() - t0) / 1_000_000_000);
                }
            });
        } // close: commits, with the graph
        System.out.printf("RESULT built %d chunks in %d s%n", chunks, (System.nanoTime() - t0) / 1_000_000_000);
    }

    /** What receives the synthetic corpus, one write batch at a time. */
    public interface BatchSink {
        void accept(List<PreparedDocument> batch) throws IOException;
    }

    /**
     * The synthetic corpus of {@code chunks} chunks (documents of 4 chunks, seeded Gaussian
     * vectors of {@code dim}), in write batches of {@code batchDocs} documents: the same batches,
     * in the same order, on every call (batch i is the build's local sequence i).
     */
    public static void syntheticBatches(int chunks, int dim, int batchDocs, BatchSink sink) throws IOException {
        Random random = new Random(20_261_202L);
        int docs = (chunks + CHUNKS_PER_DOC - 1) / CHUNKS_PER_DOC;
        List<PreparedDocument> batch = new ArrayList<>();
        int written = 0;
        for (int d = 0; d < docs; d++) {
            int n = Math.min(CHUNKS_PER_DOC, chunks - written);
            List<String> texts = new ArrayList<>();
            List<float[]> vectors = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                texts.add("synthetic chunk " + c + " of document " + d + " about topic " + random.nextInt(1000));
                vectors.add(gaussian(random, dim));
            }
            written += n;
            batch.add(new PreparedDocument("doc-" + d, "Document " + d, String.join(" ", texts), Map.of("shard", "" + d % 8),
                    texts, vectors));
            if (batch.size() == batchDocs || d == docs - 1) {
                sink.accept(List.copyOf(batch));
                batch.clear();
            }
        }
    }

    /** The number of write batches (local sequences) {@link #syntheticBatches} makes. */
    public static long batchCount(int chunks, int batchDocs) {
        long docs = (chunks + CHUNKS_PER_DOC - 1) / CHUNKS_PER_DOC;
        return (docs + batchDocs - 1) / batchDocs;
    }

    /** The tenant the synthetic corpus is written for. */
    public static String tenant() {
        return TENANT;
    }

    /**
     * Builds the synthetic index into {@code data} (both steps, each in a child JVM of {@code java})
     * unless a complete one is there; its commit then holds sequence {@link #batchCount}.
     */
    public static void buildIndex(Path data, int chunks, int dim, int batchDocs, String java) throws Exception {
        Path marker = data.resolve("built");
        if (Files.exists(marker) && Files.isDirectory(data.resolve("graph"))) {
            System.out.println("reusing " + data);
            return;
        }
        deleteTree(data);
        long t0 = System.nanoTime();
        String out = child(java, "child-build", data.toString(), Integer.toString(chunks), Integer.toString(dim),
                Integer.toString(batchDocs));
        System.out.println("built: " + out.strip());
        deleteTree(data.resolve("graph"));
        String rebuilt = child(java, "child-rebuild", data.toString(), Integer.toString(dim));
        System.out.printf("graph built and persisted (%s); build took %d s%n", rebuilt.strip(), (System.nanoTime() - t0) / 1_000_000_000);
        Files.writeString(marker, out);
    }

    private static void openOnce(Path data, int dim) throws IOException {
        long t0 = System.nanoTime();
        try (HybridIndex index = HybridIndex.open(data, dim, VectorIndexOptions.defaults())) {
            long openMs = (System.nanoTime() - t0) / 1_000_000;
            long sinceStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
            Random random = new Random(7);
            StringBuilder all = new StringBuilder();
            for (int q = 0; q < 20; q++) {
                for (ChunkHit h : index.dense(TENANT, gaussian(random, dim), Map.of(), 10)) {
                    all.append(h.chunkId()).append(',');
                }
            }
            String digest = Integer.toHexString(all.toString().hashCode());
            System.out.printf("RESULT %d %d %s %s%n", openMs, sinceStart, digest, index.graphSource());
        }
    }

    private static float[] gaussian(Random random, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    public static void copyTree(Path src, Path dst) throws IOException {
        if (!Files.exists(src)) {
            return;
        }
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> files = Files.walk(p)) {
            for (Path f : files.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList()) {
                Files.delete(f);
            }
        }
    }
}
