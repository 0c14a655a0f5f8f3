package dev.offload.gateway.generation;

import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.faulttolerance.api.Guard;
import io.vertx.core.Vertx;
import jakarta.enterprise.util.TypeLiteral;
import jakarta.inject.Inject;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The per-replica circuit breaker's guard, as {@link Generator} builds it, called from an event
 * loop the way admission calls it.
 */
@QuarkusTest
class ReplicaGuardTest {
    private static final TypeLiteral<CompletionStage<Boolean>> STAGE = new TypeLiteral<>() {
    };

    @Inject
    Vertx vertx;

    @Inject
    TiersConfig tiers;

    @Test
    void theGuardedCallStartsWithinTheCallersStackAndItsOutcomeArrivesWhereTheCallCompletes() throws Exception {
        Guard guard = TierRegistry.replicaGuard("replica-guard-test", tiers.tiers().get("edge"));
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        vertx.runOnContext(v -> {
            List<String> order = new ArrayList<>();
            Thread loop = Thread.currentThread();
            CompletableFuture<Boolean> backend = new CompletableFuture<>();
            guard.get(() -> {
                order.add(Thread.currentThread() == loop ? "started on the caller's thread" : "started elsewhere");
                return backend;
            }, STAGE).whenComplete((ok, failure) -> order.add("outcome on " + Thread.currentThread().getName()));
            order.add("guard returned");
            // The backend's answer arrives later, on another thread (here: a plain one).
            Thread completer = new Thread(() -> {
                backend.complete(true);
                seen.complete(order);
            }, "backend-completion");
            completer.start();
        });
        assertEquals(List.of("started on the caller's thread", "guard returned", "outcome on backend-completion"),
                seen.get(10, TimeUnit.SECONDS));
    }

    @Test
    void failuresStillCountTowardTheCircuit() throws Exception {
        TiersConfig.Tier c = tiers.tiers().get("edge");
        Guard guard = TierRegistry.replicaGuard("replica-guard-failures", c);
        List<String> outcomes = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i <= c.circuitRequestVolume(); i++) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            vertx.runOnContext(v -> guard.get(() -> CompletableFuture.<Boolean>failedFuture(new IllegalStateException("down")), STAGE)
                    .whenComplete((ok, failure) -> outcome.complete(
                            failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure)));
            outcomes.add(outcome.get(10, TimeUnit.SECONDS).getClass().getSimpleName());
            expected.add(i < c.circuitRequestVolume() ? "IllegalStateException" : CircuitBreakerOpenException.class.getSimpleName());
        }
        assertEquals(expected, outcomes, "the circuit opens once its request volume has failed");
    }
}
