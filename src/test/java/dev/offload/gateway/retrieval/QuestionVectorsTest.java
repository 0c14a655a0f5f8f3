package dev.offload.gateway.retrieval;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuestionVectorsTest {
    /** Counts its calls; the vector is the text's length and hash, so two texts differ. */
    static final class CountingEmbedder implements Embedder {
        final AtomicInteger calls = new AtomicInteger();
        volatile CountDownLatch gate;
        volatile RuntimeException failNext;

        @Override
        public float[] embed(String text) {
            calls.incrementAndGet();
            RuntimeException f = failNext;
            if (f != null) {
                failNext = null;
                throw f;
            }
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new float[] {text.length(), text.hashCode()};
        }

        @Override
        public List<float[]> embedAll(List<String> texts) {
            return texts.stream().map(this::embed).toList();
        }

        @Override
        public int dimension() {
            return 2;
        }

        @Override
        public String modelName() {
            return "counting";
        }
    }

    private final CountingEmbedder embedder = new CountingEmbedder();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private QuestionVectors vectors(int size) {
        return new QuestionVectors(embedder, size, Duration.ofMinutes(10), registry);
    }

    @Test
    void aTenantsRepeatedQuestionIsEmbeddedOnce() {
        QuestionVectors v = vectors(16);
        float[] first = v.vector("acme", "status of line 3");
        float[] again = v.vector("acme", "status of line 3");
        assertEquals(1, embedder.calls.get());
        assertArrayEquals(first, again);
        assertArrayEquals(new float[] {16, "status of line 3".hashCode()}, again);
        v.vector("acme", "status of line 4");
        assertEquals(2, embedder.calls.get(), "another text is another embedding");
        assertEquals(1, registry.get("cache.gets").tag("cache", QuestionVectors.CACHE_NAME).tag("result", "hit")
                .functionCounter().count());
        assertEquals(2, registry.get("cache.gets").tag("cache", QuestionVectors.CACHE_NAME).tag("result", "miss")
                .functionCounter().count());
    }

    @Test
    void aCallerChangingItsVectorDoesNotChangeTheMemo() {
        QuestionVectors v = vectors(16);
        float[] mine = v.vector("acme", "q");
        mine[0] = 99;
        assertEquals(1f, v.vector("acme", "q")[0]);
    }

    @Test
    void tenantsNeverShareAnEntry() {
        QuestionVectors v = vectors(16);
        v.vector("acme", "how do I reset the controller");
        v.vector("globex", "how do I reset the controller");
        assertEquals(2, embedder.calls.get(), "the second tenant's lookup must not find the first's entry");
        v.vector("globex", "how do I reset the controller");
        assertEquals(2, embedder.calls.get());
    }

    @Test
    void sizeZeroTurnsTheMemoOff() {
        QuestionVectors v = vectors(0);
        v.vector("acme", "q");
        v.vector("acme", "q");
        assertEquals(2, embedder.calls.get());
        assertThrows(IllegalArgumentException.class, () -> vectors(-1));
    }

    @Test
    void aFailedEmbeddingIsNotRemembered() {
        QuestionVectors v = vectors(16);
        embedder.failNext = new IllegalStateException("model not loaded");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> v.vector("acme", "q"));
        assertEquals("model not loaded", e.getMessage());
        assertArrayEquals(new float[] {1, "q".hashCode()}, v.vector("acme", "q"));
        assertEquals(2, embedder.calls.get());
    }

    @Test
    void concurrentMissesOfOneQuestionEmbedItOnce() throws Exception {
        QuestionVectors v = vectors(16);
        embedder.gate = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> v.vector("acme", "popular question")));
            }
            // let the callers reach the memo, then release the one embedding
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (embedder.calls.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            Thread.sleep(50);
            embedder.gate.countDown();
            for (Future<float[]> f : results) {
                assertArrayEquals(new float[] {16, "popular question".hashCode()}, f.get(10, TimeUnit.SECONDS));
            }
            assertEquals(1, embedder.calls.get());
        } finally {
            pool.shutdownNow();
        }
        assertTrue(registry.get("cache.size").tag("cache", QuestionVectors.CACHE_NAME).gauge().value() >= 1);
    }

    @Test
    void itsMetersGoWithIt() {
        QuestionVectors v = vectors(16);
        assertTrue(registry.find("cache.gets").tag("cache", QuestionVectors.CACHE_NAME).meter() != null);
        v.unregister();
        assertEquals(null, registry.find("cache.gets").tag("cache", QuestionVectors.CACHE_NAME).meter(),
                "a restarted application in the same JVM registers its own memo's meters");
    }
}
