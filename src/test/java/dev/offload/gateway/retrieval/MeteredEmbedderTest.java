package dev.offload.gateway.retrieval;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.Closeable;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeteredEmbedderTest {
    /** Vectors that say which call made them; closing is recorded. */
    static final class Fake implements Embedder, Closeable {
        boolean closed;

        @Override
        public int dimension() {
            return 2;
        }

        @Override
        public String modelName() {
            return "fake-model";
        }

        @Override
        public List<float[]> embedAll(List<String> texts) {
            return texts.stream().map(t -> new float[] {1, t.length()}).toList();
        }

        @Override
        public List<float[]> embedPassages(List<String> texts) {
            return texts.stream().map(t -> new float[] {2, t.length()}).toList();
        }

        @Override
        public float[] embed(String text) {
            return new float[] {3, text.length()};
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void countsQueriesAndPassagesApartUnderTheModelAndPassesEverythingThrough() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Fake fake = new Fake();
        MeteredEmbedder m = new MeteredEmbedder(fake, registry);
        assertEquals("fake-model", m.modelName());
        assertEquals(2, m.dimension());
        assertArrayEquals(new float[] {3, 2}, m.embed("ab"));
        assertArrayEquals(new float[] {1, 3}, m.embedAll(List.of("abc", "d")).get(0));
        assertArrayEquals(new float[] {2, 1}, m.embedPassages(List.of("a", "bb", "ccc")).get(0));
        assertEquals(3, registry.get("gateway.embedding.texts").tags("model", "fake-model", "kind", "query").counter().count());
        assertEquals(3, registry.get("gateway.embedding.texts").tags("model", "fake-model", "kind", "passage").counter().count());
        assertEquals(2, registry.get("gateway.embedding.time").tags("model", "fake-model", "kind", "query").timer().count());
        assertEquals(1, registry.get("gateway.embedding.time").tags("model", "fake-model", "kind", "passage").timer().count());
        m.close();
        assertTrue(fake.closed, "closing the metered embedder closes the model");
    }
}
