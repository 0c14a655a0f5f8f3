package dev.offload.gateway.retrieval;

import io.github.jbellis.jvector.graph.RandomAccessVectorValues;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;

import java.util.Arrays;

/**
 * Ordinal-addressed store of unit-length vectors, grown by appending at any ordinal.
 *
 * <p>Writers are serialised by the caller (the index's writer lock); readers (graph searches,
 * graph construction) may run on any thread concurrently with a writer: pages are published
 * through a volatile array and a page slot is written before the ordinal is handed to the
 * graph. Ordinals that were never written (holes left by replay or deletion) read as
 * {@code null} and are never handed to the graph.
 */
final class VectorStore implements RandomAccessVectorValues {
    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();
    private static final int PAGE_BITS = 12;
    private static final int PAGE_SIZE = 1 << PAGE_BITS;

    private final int dimension;
    private volatile VectorFloat<?>[][] pages = new VectorFloat<?>[0][];
    private volatile int size;

    VectorStore(int dimension) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive: " + dimension);
        }
        this.dimension = dimension;
    }

    static VectorFloat<?> toVector(float[] values) {
        return VTS.createFloatVector(values);
    }

    /** Stores the vector at the ordinal; the caller holds the writer lock. */
    void put(int ordinal, float[] values) {
        if (values.length != dimension) {
            throw new IllegalArgumentException("vector has " + values.length + " dimensions, index has " + dimension);
        }
        int page = ordinal >>> PAGE_BITS;
        VectorFloat<?>[][] current = pages;
        if (page >= current.length) {
            current = Arrays.copyOf(current, Math.max(page + 1, current.length * 2));
            for (int i = 0; i < current.length; i++) {
                if (current[i] == null) {
                    current[i] = new VectorFloat<?>[PAGE_SIZE];
                }
            }
            pages = current;
        }
        current[page][ordinal & (PAGE_SIZE - 1)] = toVector(values);
        if (ordinal >= size) {
            size = ordinal + 1;
        }
    }

    /** Drops the vector of a compacted ordinal so its memory can be reclaimed. */
    void clear(int ordinal) {
        VectorFloat<?>[][] current = pages;
        int page = ordinal >>> PAGE_BITS;
        if (page < current.length) {
            current[page][ordinal & (PAGE_SIZE - 1)] = null;
        }
    }

    boolean contains(int ordinal) {
        return ordinal < size && getVector(ordinal) != null;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public VectorFloat<?> getVector(int ordinal) {
        VectorFloat<?>[][] current = pages;
        int page = ordinal >>> PAGE_BITS;
        if (page >= current.length) {
            return null;
        }
        return current[page][ordinal & (PAGE_SIZE - 1)];
    }

    @Override
    public boolean isValueShared() {
        return false;
    }

    @Override
    public RandomAccessVectorValues copy() {
        return this;
    }
}
