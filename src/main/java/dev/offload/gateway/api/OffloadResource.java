package dev.offload.gateway.api;

import dev.offload.gateway.api.QueryApi.DecideRequest;
import dev.offload.gateway.offload.OffloadAdvisor;
import dev.offload.gateway.offload.OffloadConfig;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.InvalidRequestException;
import dev.offload.gateway.retrieval.QuestionVectors;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /v1/offload/decide}: the hint alone, for a device deciding before it sends
 * anything. Runs on a worker thread: it embeds the question (MiniLM, about 5 ms of CPU on the 2-core test machine, once per tenant and text while
 * {@link QuestionVectors} remembers it)
 * for the local-quality estimate; the decision itself is microseconds.
 */
@Path("/v1/offload/decide")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class OffloadResource {
    @Inject
    OffloadAdvisor advisor;
    @Inject
    OffloadConfig config;
    @Inject
    dev.offload.gateway.pipeline.QueryPipeline pipeline;
    /** The router weighs the question under the model it was trained on (the question model), remembered per tenant. */
    @Inject
    QuestionVectors vectors;

    @POST
    @Blocking
    public OffloadHint decide(DecideRequest request) {
        if (request == null || request.query() == null || request.query().text() == null || request.query().text().isBlank()) {
            throw InvalidRequestException.of("query.text", "must not be empty");
        }
        QueryApi.QueryText q = request.query();
        if (q.historyTokens() != null && q.historyTokens() < 0) {
            throw InvalidRequestException.of("query.historyTokens", "must be >= 0");
        }
        if (request.latencyBudgetMs() != null && request.latencyBudgetMs() < 1) {
            throw InvalidRequestException.of("latencyBudgetMs", "must be >= 1");
        }
        if (request.maxTokens() != null && request.maxTokens() < 1) {
            throw InvalidRequestException.of("maxTokens", "must be >= 1");
        }
        var sensitivity = QueryApi.sensitivity("query.sensitivity", q.sensitivity());
        // The exact-question path of the cache only (paraphrase lookups belong to the query path).
        boolean cached = (q.historyTokens() == null || q.historyTokens() == 0)
                && pipeline.cachedExactly(Callers.tenant(), q.text(), sensitivity);
        // Not for restricted questions (they stay local whatever the estimate) nor cached ones.
        Double localQuality = cached || sensitivity == Sensitivity.RESTRICTED || !config.localQualityEnabled() ? null
                : advisor.localQuality(q.text(), vectors.vector(Callers.tenant(), q.text()));
        return advisor.decide(new OffloadPolicy.Input(QueryApi.device(request.device()), q.text(),
                q.historyTokens() == null ? 0 : q.historyTokens(), config.contextTokensEstimate(),
                OffloadAdvisor.level(sensitivity), request.latencyBudgetMs(), advisor.view(cached), localQuality,
                request.maxTokens()));
    }
}
