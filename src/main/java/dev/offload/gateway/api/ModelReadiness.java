package dev.offload.gateway.api;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.retrieval.Embedder;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/**
 * Loads the in-process models at start, on a thread of their own, while the index opens on
 * another: the index's and the questions' embedding models and the semantic cache with its verifier's second model.
 * Each runs one inference, so the first request after ready does not pay for an ONNX session's
 * first run. Ready once all are loaded.
 *
 * <p>Without it the models were created by whichever thread first touched their bean — the
 * Watch feed's timer on an event loop, for the cache (seconds of a blocked event loop at every
 * start), or the first request.
 */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {
    private static final Logger LOG = Logger.getLogger(ModelReadiness.class);

    @Inject
    Embedder embedder;
    @Inject
    @dev.offload.gateway.retrieval.QuestionEmbedding
    Embedder questionEmbedder;
    @Inject
    SemanticCache cache;

    private volatile boolean loaded;
    private volatile Throwable failure;
    private volatile long loadMillis = -1;

    void onStart(@Observes StartupEvent event) {
        Thread t = new Thread(this::load, "model-warmup");
        t.setDaemon(true);
        t.start();
    }

    private void load() {
        long t0 = System.nanoTime();
        try {
            embedder.embed("warm up");
            questionEmbedder.embed("warm up");
            cache.warmUp();
            loadMillis = (System.nanoTime() - t0) / 1_000_000;
            loaded = true;
            LOG.infof("models loaded and warmed in %d ms (index embedding %s, questions %s)", loadMillis,
                    embedder.modelName(), questionEmbedder.modelName());
        } catch (Throwable e) {
            failure = e;
            LOG.error("an in-process model failed to load; the gateway stays not-ready", e);
        }
    }

    /** Whether the models are loaded and have run once. */
    public boolean loaded() {
        return loaded;
    }

    @Override
    public HealthCheckResponse call() {
        var b = HealthCheckResponse.named("models").status(loaded);
        if (loaded) {
            b.withData("loadMillis", loadMillis);
        }
        if (failure != null) {
            b.withData("error", String.valueOf(failure));
        }
        return b.build();
    }
}
