package dev.offload.gateway.cluster;

import dev.offload.gateway.bench.verifier.CachePairs;
import dev.offload.gateway.bench.verifier.CachePairs.Group;
import dev.offload.gateway.bench.verifier.CachePairs.Half;
import dev.offload.gateway.bench.verifier.CachePrecisionEvaluation;
import dev.offload.gateway.bench.verifier.CachePrecisionEvaluation.Tally;
import dev.offload.gateway.bench.verifier.NegativeQuestions.Negative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared semantic cache, judged by the cache evaluation's own protocol
 * ({@link CachePrecisionEvaluation}: held-out GPTCache origins, their paraphrases, withheld
 * origins' paraphrases and held-out negatives, asked one after another through
 * {@code POST /v1/query} with an echoing backend): a CI-sized subset (the held-out half's first
 * {@code -Dcluster.cache.groups} groups, 45 by default: 163 questions) asked of one gateway
 * in the embedded mode and round-robin over 3 replicas in cluster mode (3-node
 * {@code nats-server} JetStream cluster), paced so that every stored entry has reached every
 * replica before the next question ({@link ClusterCacheAskers}). Every question must get the same
 * outcome on the 3 replicas as on the one gateway: served from the cache or not, and the same
 * answer — so the same correct and wrong hits.
 *
 * <p>The same questions are then asked round-robin without pacing; their differences (entries
 * still in flight) are printed, not asserted: a device asking right after another may
 * legitimately miss. Runs after {@code package} (failsafe): {@code ./mvnw verify -Pall-tests},
 * or {@code ./mvnw failsafe:integration-test failsafe:verify -DskipITs=false -Dit.test=ClusterCacheIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterCacheIT {
    private ClusterCacheAskers cluster;
    private List<Group> groups;
    private List<Negative> negatives;

    @BeforeAll
    void start() throws Exception {
        Path dataset = Path.of(System.getProperty("cluster.cache.dataset", "/work/shared/data/cache/gptcache-paraphrase-pairs.json"));
        assertTrue(Files.isRegularFile(dataset), "the GPTCache pairs are needed: " + dataset);
        List<Group> half = CachePairs.read(dataset).half(Half.HELD_OUT);
        groups = half.subList(0, Math.min(Integer.getInteger("cluster.cache.groups", 45), half.size()));
        negatives = CachePrecisionEvaluation.negativesOf(groups, Half.HELD_OUT);
        cluster = new ClusterCacheAskers(Files.createTempDirectory("cluster-cache-it"), true, List.of("paced", "immediate"));
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void questionsRoundRobinOverThreeReplicasGetTheSameHitsAsOneGateway() throws Exception {
        Tally one = CachePrecisionEvaluation.run(groups, negatives, cluster.single());
        Tally paced = CachePrecisionEvaluation.run(groups, negatives, cluster.roundRobin("paced", true));
        Tally immediate = CachePrecisionEvaluation.run(groups, negatives, cluster.roundRobin("immediate", false));
        for (var e : java.util.Map.of("one gateway", one, "3 replicas, paced", paced, "3 replicas, immediate", immediate).entrySet()) {
            Tally t = e.getValue();
            System.out.printf("ClusterCacheIT %s: %d questions; correct hits %d of %d, wrong hits %d, withheld hits %d of %d, "
                            + "negatives hit %d of %d%n", e.getKey(), t.log().size(), t.correct(), t.paraphrases(), t.wrong(),
                    t.withheldHits(), t.withheld(), t.negativeHits(), t.negatives());
        }
        List<String> drift = CachePrecisionEvaluation.differences(one, immediate, "one gateway", "3 replicas, immediate");
        System.out.printf("ClusterCacheIT immediate (no pacing): %d of %d questions answered differently%n", drift.size(),
                one.log().size());
        drift.forEach(d -> System.out.println("  " + d));
        long[] lag = cluster.replicationLag();
        if (lag != null) {
            System.out.printf("ClusterCacheIT paced: entry on all 3 replicas %d ms after the answer (median), max %d ms%n", lag[0], lag[2]);
        }

        assertTrue(one.correct() > 0 && one.log().size() >= 100, "the subset must exercise the cache: " + one.correct()
                + " correct hits in " + one.log().size() + " questions");
        List<String> differ = CachePrecisionEvaluation.differences(one, paced, "one gateway", "3 replicas, paced");
        assertEquals(List.of(), differ, "questions answered differently round-robin over 3 replicas (logs under " + cluster.dir() + ")");
        assertEquals(one.correct(), paced.correct());
        assertEquals(one.wrong(), paced.wrong());
        assertEquals(one.withheldHits(), paced.withheldHits());
        assertEquals(one.negativeHits(), paced.negativeHits());
    }
}
