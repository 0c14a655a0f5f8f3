package dev.offload.gateway.bench.routing;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NeighbourLabelsTest {
    private static float[] unit(double angle) {
        float[] v = new float[4];
        v[0] = (float) Math.cos(angle);
        v[1] = (float) Math.sin(angle);
        return v;
    }

    @Test
    void neighboursComeOnlyFromAllowedFoldsAndAreSimilarityWeighted() {
        // rows 0,1 in fold 0; rows 2,3 in fold 1; row 4 in fold 2
        List<float[]> emb = List.of(unit(0), unit(0.1), unit(0.2), unit(Math.PI / 2), unit(0.05));
        int[] fold = {0, 0, 1, 1, 2};
        boolean[] weak = {true, true, false, false, true};
        boolean[] strong = {true, false, true, true, false};
        NeighbourLabels nl = new NeighbourLabels(emb, fold, 3, 2, weak, strong);
        double[] none = {0, 0, 0};

        // row 0 without its own fold and fold 2: its two neighbours are rows 2 (cos 0.2) and 3 (cos 90° = 0, weight 0)
        double[] f = nl.features(0, (1 << 0) | (1 << 2), 2, 0, none);
        assertArrayEquals(new double[]{0, 1, 0}, f, 1e-9); // row 2: weak wrong, strong right, so not "as good"

        // all folds allowed but its own: rows 4 (cos 0.05) and 2 (cos 0.2), weighted by cosine
        double c4 = Math.cos(0.05), c2 = Math.cos(0.2);
        f = nl.features(0, 1 << 0, 2, 0, none);
        assertEquals(c4 / (c4 + c2), f[0], 1e-6);
        assertEquals(c2 / (c4 + c2), f[1], 1e-6);
        assertEquals(c4 / (c4 + c2), f[2], 1e-6);

        // the prior pulls toward the given rates with that many pseudo-neighbours
        f = nl.features(0, (1 << 0) | (1 << 2), 1, 1, new double[]{0.5, 0.5, 0.5});
        assertEquals(0.5 / (1 + c2), f[0], 1e-6);

        assertArrayEquals(new double[]{1.0, 1.0 / 3, 1.0}, nl.overall(1 << 1), 1e-9); // rows 0, 1, 4: strong right only on row 0
    }
}
