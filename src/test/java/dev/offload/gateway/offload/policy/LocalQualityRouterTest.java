package dev.offload.gateway.offload.policy;

import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalQualityRouterTest {
    private static LocalQualityRouter router(double bias) {
        float[] e = {0.5f, -1f, 0f};
        double[] f = new double[QueryFeatures.count()];
        f[0] = -0.25; // log_chars: longer questions are less often local
        return new LocalQualityRouter(e, f, bias);
    }

    @Test
    void estimateIsTheLogisticOfTheDotProduct() {
        LocalQualityRouter r = router(0.3);
        float[] v = {0.6f, 0.8f, 0f};
        String text = "short";
        double z = 0.3 + 0.5 * 0.6 - 0.8 - 0.25 * Math.log1p(text.length());
        assertEquals(1 / (1 + Math.exp(-z)), r.estimate(text, v), 1e-6);
    }

    @Test
    void longerQuestionsGetLowerEstimatesUnderANegativeLengthWeight() {
        LocalQualityRouter r = router(0);
        float[] v = {0f, 0f, 1f};
        assertTrue(r.estimate("a much longer question about several things at once", v) < r.estimate("hi", v));
    }

    @Test
    void writtenModelReadsBackEqual() throws IOException {
        LocalQualityRouter r = router(-1.5);
        LocalQualityRouter back = LocalQualityRouter.read(new StringReader(r.write("a comment\nsecond line")));
        assertEquals(r, back);
        assertEquals(3, back.dimension());
    }

    @Test
    void rejectsAFileForOtherFeatures() {
        String other = router(0).write("x").replace("features=log_chars", "features=chars");
        assertThrows(IOException.class, () -> LocalQualityRouter.read(new StringReader(other)));
    }

    @Test
    void rejectsWrongDimensionsAndBadWeights() {
        LocalQualityRouter r = router(0);
        assertThrows(IllegalArgumentException.class, () -> r.estimate("q", new float[4]));
        assertThrows(IllegalArgumentException.class, () -> new LocalQualityRouter(new float[3], new double[2], 0));
        assertThrows(IllegalArgumentException.class,
                () -> new LocalQualityRouter(new float[]{Float.NaN}, new double[QueryFeatures.count()], 0));
    }

    @Test
    void theBundledModelTakesMiniLmVectorsAndGivesProbabilities() {
        LocalQualityRouter r = LocalQualityRouter.bundled();
        assertEquals(384, r.dimension());
        float[] v = new float[384];
        v[7] = 1f;
        double p = r.estimate("What is the capital of France?", v);
        assertTrue(p > 0 && p < 1, "p=" + p);
    }

    @Test
    void oneRouterPerEmbeddingModelKeyedByItsName() throws IOException {
        assertEquals("/dev/offload/gateway/offload/policy/local-quality-router-e5-small-v2-q.properties",
                LocalQualityRouter.resource("e5-small-v2-q"));
        assertTrue(LocalQualityRouter.bundled(LocalQualityRouter.DEFAULT_MODEL).isPresent());
        assertEquals(LocalQualityRouter.DEFAULT_MODEL, LocalQualityRouter.bundled().embeddingModel());
        assertTrue(LocalQualityRouter.bundled("no-such-model").isEmpty());
        LocalQualityRouter r = router(0.1);
        assertEquals("bge-small-en-v1.5-q", LocalQualityRouter.read(new StringReader(r.write("c", "bge-small-en-v1.5-q"))).embeddingModel());
        assertNull(LocalQualityRouter.read(new StringReader(r.write("c"))).embeddingModel());
    }
}
