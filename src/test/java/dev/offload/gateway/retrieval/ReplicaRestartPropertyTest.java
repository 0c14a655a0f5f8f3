package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.ChunkHit;
import dev.offload.gateway.retrieval.WriteAheadLog.Batch;
import dev.offload.gateway.retrieval.WriteAheadLog.ChunkRecord;
import dev.offload.gateway.retrieval.WriteAheadLog.Delete;
import dev.offload.gateway.retrieval.WriteAheadLog.Operation;
import dev.offload.gateway.retrieval.WriteAheadLog.Upsert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ClusterIT case 7 in seconds: a replica follows a replicated stream ({@link HybridIndex#applyReplicated})
 * while it commits, compacts, is killed (no commit) or stopped, and reopens from its persisted graph
 * and the stream's tail; meanwhile a tenant written once at the start is never touched again. Its
 * dense top 10 must stay what exact search gives (recall) and its exact top 10 what a replica that
 * never restarted gives (the ordinal ↔ chunk mapping). Seeded; the seed is in every message.
 */
class ReplicaRestartPropertyTest {
    private static final int DIM = 32;
    private static final VectorIndexOptions OPTIONS = new VectorIndexOptions(16, 64, 1.2f, 1.2f, 2f, 64);
    private static final String STABLE = "marco";
    private static final String CHURN = "crash";

    @TempDir
    Path dir;

    /** The stream every replica follows: the stable tenant first, then churn in another tenant. */
    private static final class Stream {
        final Random random;
        final float[][] centres;
        final List<Batch> batches = new ArrayList<>();
        final List<String> churnIds = new ArrayList<>();
        int nextDoc;

        Stream(Random random) {
            this.random = random;
            centres = new float[24][];
            for (int i = 0; i < centres.length; i++) {
                centres[i] = gaussian(random, 1f);
            }
        }

        float[] vector() {
            float[] c = centres[random.nextInt(centres.length)];
            float[] noise = gaussian(random, 0.35f);
            for (int i = 0; i < DIM; i++) {
                noise[i] += c[i];
            }
            return noise;
        }

        Upsert upsert(String tenant, String id) {
            int n = 1 + random.nextInt(3);
            List<ChunkRecord> chunks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                chunks.add(new ChunkRecord(-1, "chunk " + i + " of " + id, vector())); // ordinals are the replica's
            }
            return new Upsert(tenant, id, "", "text of " + id, Map.of(), chunks);
        }

        void add(List<Operation> ops) {
            batches.add(new Batch(batches.size() + 1, 1_000L + batches.size(), ops));
        }

        void stable(int docs, int perBatch) {
            for (int b = 0; b < docs; b += perBatch) {
                List<Operation> ops = new ArrayList<>();
                for (int i = b; i < Math.min(docs, b + perBatch); i++) {
                    ops.add(upsert(STABLE, "m" + i));
                }
                add(ops);
            }
        }

        void churn(int batches) {
            for (int b = 0; b < batches; b++) {
                List<Operation> ops = new ArrayList<>();
                int n = 1 + random.nextInt(8);
                for (int i = 0; i < n; i++) {
                    double r = random.nextDouble();
                    if (r < 0.55 || churnIds.isEmpty()) {
                        String id = "c" + nextDoc++;
                        churnIds.add(id);
                        ops.add(upsert(CHURN, id));
                    } else if (r < 0.85) {
                        ops.add(upsert(CHURN, churnIds.get(random.nextInt(churnIds.size())))); // re-upsert
                    } else {
                        ops.add(new Delete(CHURN, churnIds.remove(random.nextInt(churnIds.size()))));
                    }
                }
                add(ops);
            }
        }
    }

    private static float[] gaussian(Random random, float sigma) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) random.nextGaussian() * sigma;
        }
        return v;
    }

    private static void follow(HybridIndex index, List<Batch> stream, int upTo) throws IOException {
        for (long seq = index.lastSequence() + 1; seq <= upTo; seq++) {
            index.applyReplicated(stream.get((int) seq - 1));
        }
    }

    @Test
    void aReplicaThatRestartsAnswersLikeOneThatNever() throws IOException {
        for (long seed : new long[]{20_261_202L, 42L, System.nanoTime()}) {
            runOnce(seed);
        }
    }

    private void runOnce(long seed) throws IOException {
        Random random = new Random(seed);
        Stream stream = new Stream(random);
        stream.stable(600, 50);
        stream.churn(400);
        List<float[]> queries = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            queries.add(stream.vector());
        }
        Path replicaDir = dir.resolve("replica-" + seed);
        Path steadyDir = dir.resolve("steady-" + seed);
        Random events = new Random(seed ^ 0x5eedL);
        String history = "";
        HybridIndex replica = HybridIndex.open(replicaDir, DIM, OPTIONS);
        try (HybridIndex steady = HybridIndex.open(steadyDir, DIM, OPTIONS)) {
            follow(steady, stream.batches, stream.batches.size());
            int total = stream.batches.size();
            int at = 0;
            while (at < total) {
                at = Math.min(total, at + 1 + events.nextInt(25));
                follow(replica, stream.batches, at);
                double e = events.nextDouble();
                if (e < 0.35) {
                    replica.commit();
                    history += " commit@" + at;
                    continue;
                } else if (e < 0.5) {
                    replica.compact();
                    history += " compact@" + at;
                    continue;
                } else if (e < 0.6) {
                    replica.abandon();
                    replica = HybridIndex.open(replicaDir, DIM, OPTIONS);
                    history += " kill@" + at + "->" + replica.lastSequence() + "(" + replica.graphSource() + ")";
                } else if (e < 0.65) {
                    // A kill inside a commit: its graph is on disk, its Lucene commit never happened.
                    new GraphFiles(replicaDir.resolve("graph")).write(at, replica.vectorIndex());
                    replica.abandon();
                    replica = HybridIndex.open(replicaDir, DIM, OPTIONS);
                    history += " kill-in-commit@" + at + "->" + replica.lastSequence() + "(" + replica.graphSource() + ")";
                } else if (e < 0.72) {
                    replica.close();
                    replica = HybridIndex.open(replicaDir, DIM, OPTIONS);
                    history += " stop@" + at + "(" + replica.graphSource() + ")";
                } else {
                    continue;
                }
                if (!replica.graphSource().startsWith("opened") && replica.lastSequence() > 0) {
                    fail("a restart after a commit rebuilt the graph instead of opening it; seed " + seed + ", events:" + history);
                }
            }
            follow(replica, stream.batches, total);
            String why = "seed " + seed + ", events:" + history;
            assertEquals(steady.stats(STABLE).chunks(), replica.stats(STABLE).chunks(), why);
            assertEquals(steady.stats(CHURN).documents(), replica.stats(CHURN).documents(), why);
            int found = 0;
            int worst = 10;
            for (float[] q : queries) {
                List<String> exact = ids(replica.denseExact(STABLE, q, Map.of(), 10));
                assertEquals(ids(steady.denseExact(STABLE, q, Map.of(), 10)), exact,
                        "exact top 10 of the replica and of the steady one; " + why);
                List<String> ann = ids(replica.dense(STABLE, q, Map.of(), 10));
                int common = (int) exact.stream().filter(ann::contains).count();
                found += common;
                worst = Math.min(worst, common);
            }
            System.out.printf("seed %d: recall@10 %.3f, worst query %d/10;%s%n", seed,
                    found / (10.0 * queries.size()), worst, history);
            assertTrue(worst >= 7 && found >= 0.95 * 10 * queries.size(),
                    "dense top 10 of the replica against exact: " + found + "/" + 10 * queries.size()
                            + ", worst query " + worst + "/10; " + why);
        } finally {
            replica.close();
        }
    }

    private static List<String> ids(List<ChunkHit> hits) {
        return hits.stream().map(ChunkHit::chunkId).toList();
    }
}
