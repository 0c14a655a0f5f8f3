package dev.offload.gateway.retrieval;

/**
 * JVector graph parameters.
 *
 * @param maxDegree        M: maximum edges per node
 * @param beamWidth        candidates kept while linking a new node (efConstruction)
 * @param neighborOverflow how far a node's degree may exceed M before it is pruned
 * @param alpha            Vamana's diversity factor (1.2 is the DiskANN default)
 * @param overquery        search width as a multiple of k
 * @param rerankK          minimum search width whatever k is
 */
public record VectorIndexOptions(int maxDegree, int beamWidth, float neighborOverflow, float alpha,
                                 float overquery, int rerankK) {
    public VectorIndexOptions {
        if (maxDegree < 2) throw new IllegalArgumentException("maxDegree must be >= 2");
        if (beamWidth < maxDegree) throw new IllegalArgumentException("beamWidth must be >= maxDegree");
        if (neighborOverflow < 1f) throw new IllegalArgumentException("neighborOverflow must be >= 1");
        if (alpha < 1f) throw new IllegalArgumentException("alpha must be >= 1");
        if (overquery < 1f) throw new IllegalArgumentException("overquery must be >= 1");
        if (rerankK < 1) throw new IllegalArgumentException("rerankK must be >= 1");
    }

    public static VectorIndexOptions defaults() {
        return new VectorIndexOptions(32, 100, 1.2f, 1.2f, 2f, 100);
    }
}
