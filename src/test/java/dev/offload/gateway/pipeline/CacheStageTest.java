package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.privacy.Sensitivity;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class CacheStageTest {
    private final StageFixtures f = StageFixtures.create();
    private final SemanticCache cache = StageFixtures.cache(f.now);
    private final CacheStage stage = new CacheStage(cache);
    private final AdmitStage admit = new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
            t -> Sensitivity.INTERNAL, StageFixtures::tiers, (tiers, d) -> null, cache, f.now::get);

    @Test
    void aStoredAnswerIsFoundInItsScopeAndRestrictedQueriesAreNeverLookedUp() {
        QueryContext first = admit.begin("t", StageFixtures.query("torque of the P-7 bolts"), null);
        stage.ticket(first);
        cache.put(first.cacheTicket, "t", first.scope, "torque of the P-7 bolts", new float[]{1, 0}, "45 Nm", List.of());

        QueryContext again = admit.begin("t", StageFixtures.query("torque of the P-7 bolts"), null);
        again.vector = new float[]{1, 0};
        stage.lookup(again);
        assertNotNull(again.cacheHit);
        assertEquals("45 Nm", again.cacheHit.answer());

        QueryContext restricted = admit.begin("t", StageFixtures.query("torque of the P-7 bolts", Sensitivity.RESTRICTED, null, null), null);
        restricted.vector = new float[]{1, 0};
        stage.lookup(restricted);
        assertNull(restricted.cacheHit);
        QueryContext otherTenant = admit.begin("u", StageFixtures.query("torque of the P-7 bolts"), null);
        otherTenant.vector = new float[]{1, 0};
        stage.lookup(otherTenant);
        assertNull(otherTenant.cacheHit, "tenants never share answers");
    }
}
