package dev.offload.gateway.pipeline;

import dev.offload.gateway.generation.GenerationRejectedException;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.retrieval.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmitStageTest {
    private final StageFixtures f = StageFixtures.create();
    private final List<List<String>> asked = new ArrayList<>();
    private final dev.offload.gateway.cache.SemanticCache cache = StageFixtures.cache(f.now);

    private AdmitStage stage(boolean refuse) {
        return new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
                tenant -> tenant.equals("clinic") ? Sensitivity.CONFIDENTIAL : Sensitivity.INTERNAL, StageFixtures::tiers,
                (tiers, deadline) -> {
                    asked.add(tiers);
                    return refuse ? new GenerationRejectedException("deadline", 429, 1000, "too short") : null;
                }, cache, f.now::get);
    }

    @Test
    void theBudgetIsTheTighterOfTheQuerysAndTheTransportsAndTheTenantDefaultApplies() {
        QueryContext c = stage(false).begin("clinic", StageFixtures.query("q", null, 900L, null), 300L);
        assertEquals(300L, c.budgetMs);
        assertEquals(f.now.get(), c.startNanos);
        assertEquals(Sensitivity.CONFIDENTIAL, c.asked, "the tenant's default");
        assertEquals(StageFixtures.QUERY.defaultK(), c.k);
        assertNull(stage(false).begin("t", StageFixtures.query("q"), null).budgetMs);
    }

    @Test
    void everyViolationIsNamedAndNothingStarts() {
        Query bad = new Query(" ", null, 0, null, null, 0L, null, null, 0, 3.0, null);
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> stage(false).begin("t", bad, null));
        assertEquals(List.of("query", "k", "maxTokens", "temperature", "latencyBudgetMs"),
                e.violations().stream().map(InvalidRequestException.Violation::field).toList());
        assertTrue(asked.isEmpty());
    }

    @Test
    void aBudgetNoAllowedTierCanMeetIsRefusedBeforeRetrievalUnlessTheExactAnswerIsCached() {
        AdmitStage refusing = stage(true);
        QueryContext c = refusing.begin("t", StageFixtures.query("q", Sensitivity.CONFIDENTIAL, 50L, null), null);
        assertNotNull(refusing.refusal(c));
        assertEquals(List.of(List.of("edge")), asked, "only tiers the stated sensitivity may reach are asked");

        cache.put(cache.ticket(), "t", c.scope, "q", new float[]{1, 0}, "cached answer", List.of());
        assertNull(refusing.refusal(c), "the exact question is in the cache: no refusal");

        QueryContext never = refusing.begin("t", StageFixtures.query("q2", null, 50L, Query.Generate.NEVER), null);
        assertNull(refusing.refusal(never), "a query that will not generate is not refused for its budget");
        QueryContext noBudget = refusing.begin("t", StageFixtures.query("q3"), null);
        assertNull(refusing.refusal(noBudget));
    }
}
