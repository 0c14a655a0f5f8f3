package dev.offload.gateway.bench.routing;

import dev.offload.gateway.bench.routing.RouterTrainer.Params;
import dev.offload.gateway.bench.routing.RouterTrainer.Sample;
import dev.offload.gateway.offload.policy.LocalQualityRouter;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training path on a small synthetic set with a planted signal (the MMLU file is not in the repository). */
class RouterTrainerTest {
    private static final long DATA_SEED = 11;
    private static final String[] TEXTS = {"what is 2 + 2", "prove that the sequence converges, and then bound its rate",
            "Which of these is NOT a noble gas?\nA. He\nB. Ne\nC. N\nD. Ar"};

    /** Unit vectors in 16-d; the weak model "does as well" mostly when component 0 is positive. */
    static List<Sample> samples(long seed, int n) {
        Random rnd = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] v = new float[16];
            double norm = 0;
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) rnd.nextGaussian();
                norm += v[j] * v[j];
            }
            for (int j = 0; j < v.length; j++) {
                v[j] /= (float) Math.sqrt(norm);
            }
            boolean local = v[0] + 0.1 * rnd.nextGaussian() > -0.2;
            String text = TEXTS[rnd.nextInt(TEXTS.length)]; // independent of the label: the signal is in the vector
            out.add(new Sample(text, v, local));
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameModel() throws Exception {
        List<Sample> data = samples(DATA_SEED, 600);
        Params p = new Params(3, 0.05, 42);
        LocalQualityRouter a = RouterTrainer.train(data, p);
        LocalQualityRouter b = RouterTrainer.train(data, p);
        assertEquals(a, b, "data seed " + DATA_SEED);
        assertEquals(a.write("x"), b.write("x"));
        assertEquals(a, LocalQualityRouter.read(new StringReader(a.write("x"))));
    }

    @Test
    void anotherSeedShufflesDifferently() {
        List<Sample> data = samples(DATA_SEED, 600);
        assertNotEquals(RouterTrainer.train(data, new Params(3, 0.05, 42)), RouterTrainer.train(data, new Params(3, 0.05, 43)));
    }

    @Test
    void theExportReproducesTribuosPredictionsAndLearnsThePlantedSignal() {
        List<Sample> data = samples(DATA_SEED, 600);
        RouterTrainer.Fit fit = RouterTrainer.fit(data, new Params(3, 0.05, 42));
        for (Sample s : data.subList(0, 50)) {
            assertEquals(fit.tribuoEstimate(s), fit.router().estimate(s.text(), s.embedding()), 1e-5);
        }
        List<Sample> held = samples(DATA_SEED + 1, 400);
        double[] score = held.stream().mapToDouble(s -> fit.router().estimate(s.text(), s.embedding())).toArray();
        boolean[] weak = new boolean[held.size()];
        boolean[] strong = new boolean[held.size()];
        for (int i = 0; i < weak.length; i++) {
            weak[i] = held.get(i).localAsGood();
            strong[i] = true;
        }
        double apgr = RoutingCurve.of(score, weak, strong).apgr();
        assertTrue(apgr > 0.8, "APGR " + apgr + " on held-out synthetic data, seed " + (DATA_SEED + 1));
    }

    @Test
    void liblinearGivesTheSameModelTwiceAndReproducesTribuo() {
        List<Sample> data = samples(DATA_SEED, 600);
        LiblinearRouterTrainer.Params p = new LiblinearRouterTrainer.Params(0.01, 1, true);
        LiblinearRouterTrainer.Fit fit = LiblinearRouterTrainer.fit(data, p, 42);
        assertEquals(fit.router(), LiblinearRouterTrainer.train(data, p, 42), "data seed " + DATA_SEED);
        for (Sample s : data.subList(0, 50)) {
            assertEquals(fit.tribuoEstimate(s), fit.router().estimate(s.text(), s.embedding()), 1e-5);
        }
        List<Sample> held = samples(DATA_SEED + 1, 400);
        double[] score = held.stream().mapToDouble(s -> fit.router().estimate(s.text(), s.embedding())).toArray();
        boolean[] weak = new boolean[held.size()];
        boolean[] strong = new boolean[held.size()];
        for (int i = 0; i < weak.length; i++) {
            weak[i] = held.get(i).localAsGood();
            strong[i] = true;
        }
        assertTrue(RoutingCurve.of(score, weak, strong).apgr() > 0.8, "held-out synthetic data, seed " + (DATA_SEED + 1));
    }

    @Test
    void aSmallerEmbeddingScaleShrinksTheEmbeddingWeights() {
        List<Sample> data = samples(DATA_SEED, 600);
        double wide = spread(LiblinearRouterTrainer.train(data, new LiblinearRouterTrainer.Params(0.01, 1, true), 42));
        double narrow = spread(LiblinearRouterTrainer.train(data, new LiblinearRouterTrainer.Params(0.01, 0.1, true), 42));
        assertTrue(narrow < wide, narrow + " vs " + wide);
        assertTrue(narrow > 0, "still learns from the embedding");
    }

    /** How far the estimate moves along the planted direction (component 0). */
    private static double spread(LocalQualityRouter r) {
        return r.estimate("q", unit(0, 1)) - r.estimate("q", unit(0, -1));
    }

    private static float[] unit(int i, float sign) {
        float[] v = new float[16];
        v[i] = sign;
        return v;
    }
}
