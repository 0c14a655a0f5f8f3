package dev.offload.gateway.bench.verifier;

import dev.offload.gateway.bench.verifier.VerifierTrainer.Params;
import dev.offload.gateway.bench.verifier.VerifierTrainer.Sample;
import dev.offload.gateway.cache.DuplicateVerifier;
import dev.offload.gateway.cache.PairFeatures;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Training is deterministic for a seed, and learns a planted rule (the GPTCache file is not in the repository). */
class VerifierTrainerTest {
    private static final long DATA_SEED = 7;

    /** Duplicates: high cosine and no mismatch; different: low cosine, or a negation or number mismatch. */
    static List<Sample> samples(long seed, int n) {
        Random rnd = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] f = new double[PairFeatures.count()];
            boolean duplicate = rnd.nextBoolean();
            f[0] = duplicate ? 0.85 + 0.15 * rnd.nextDouble() : 0.6 + 0.4 * rnd.nextDouble();
            f[1] = rnd.nextDouble();
            f[2] = rnd.nextDouble();
            if (!duplicate && f[0] > 0.85) {
                f[3 + rnd.nextInt(2)] = 1; // a near neighbour that is negated or has another number
            }
            f[10] = 0.5 + 0.5 * rnd.nextDouble();
            out.add(new Sample(f, duplicate, 1 + rnd.nextInt(3)));
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameModel() throws Exception {
        List<Sample> data = samples(DATA_SEED, 800);
        Params p = new Params(5, 0.1, 20);
        DuplicateVerifier a = VerifierTrainer.train(data, p, 0.5);
        DuplicateVerifier b = VerifierTrainer.train(data, p, 0.5);
        assertEquals(a, b, "data seed " + DATA_SEED);
        assertEquals(a.write("x"), b.write("x"));
        assertEquals(a, DuplicateVerifier.read(new StringReader(a.write("x"))));
        assertNotEquals(a, VerifierTrainer.train(data, new Params(5, 0.1, 21), 0.5), "another seed shuffles differently");
    }

    @Test
    void itLearnsThePlantedRule() {
        DuplicateVerifier v = VerifierTrainer.train(samples(DATA_SEED, 2000), new Params(10, 0.1, 20), 0.5);
        List<Sample> held = samples(DATA_SEED + 1, 1000);
        int right = 0;
        for (Sample s : held) {
            right += v.accepts(s.features()) == s.duplicate() ? 1 : 0;
        }
        assertTrue(right > 850, right + " of 1000 held-out samples right, data seed " + (DATA_SEED + 1));
        double[] negated = {0.97, 0.5, 0.5, 1, 0, 0, 0, 0, 0, 0, 0.9, Double.NaN, 0};
        double[] same = {0.97, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0.9, Double.NaN, 0};
        assertTrue(v.probability(negated) < 0.5 && v.probability(same) > 0.5, v.toString());
    }
}
