package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.Document;
import dev.offload.gateway.api.grpc.IndexService;
import dev.offload.gateway.api.grpc.SearchMode;
import dev.offload.gateway.api.grpc.SearchRequest;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.TestKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gRPC on the shared HTTP port: same semantics and errors as REST. */
@QuarkusTest
class IndexGrpcTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @GrpcClient("index")
    IndexService unauthenticated;
    IndexService client;

    @Inject
    SharedIndex index;

    @BeforeEach
    void waitForIndex() throws Exception {
        index.whenOpen().get(120, TimeUnit.SECONDS);
        client = TestKeys.grpcAs(unauthenticated, TestKeys.DEFAULT_DEVICE);
    }

    @Test
    void streamingIngestThenSearch() {
        var reply = client.ingest(Multi.createFrom().items(
                Document.newBuilder().setId("grpc-1").setTitle("Wind turbines")
                        .setText("Wind turbine blades are inspected by drones for erosion.").putMetadata("site", "farm").build(),
                Document.newBuilder().setId("grpc-2").setTitle("Bees")
                        .setText("Honey bees communicate with a waggle dance.").build()))
                .await().atMost(WAIT);
        assertEquals(2, reply.getDocuments());
        assertTrue(reply.getChunks() >= 2);

        for (SearchMode mode : new SearchMode[]{SearchMode.SEARCH_MODE_HYBRID, SearchMode.SEARCH_MODE_DENSE, SearchMode.SEARCH_MODE_SPARSE}) {
            var hits = client.search(SearchRequest.newBuilder().setQuery("drone inspection of turbine blades")
                    .setK(1).setMode(mode).build()).await().atMost(WAIT);
            assertEquals("grpc-1", hits.getHits(0).getDocumentId(), mode.name());
            assertEquals("farm", hits.getHits(0).getMetadataMap().get("site"));
        }
        var filtered = client.search(SearchRequest.newBuilder().setQuery("drone inspection").setK(5)
                .putFilter("site", "nowhere").build()).await().atMost(WAIT);
        assertEquals(0, filtered.getHitsCount());
    }

    @Test
    void invalidDocumentsAreInvalidArgumentAndWriteNothing() {
        var e = assertThrows(StatusRuntimeException.class, () -> client.ingest(Multi.createFrom().items(
                Document.newBuilder().setId("grpc-ok").setText("fine").build(),
                Document.newBuilder().setId("").setText("no id").build())).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("documents[1].id"), e.getStatus().getDescription());
        var hits = client.search(SearchRequest.newBuilder().setQuery("fine").setMode(SearchMode.SEARCH_MODE_SPARSE)
                .setK(100).build()).await().atMost(WAIT);
        assertTrue(hits.getHitsList().stream().noneMatch(h -> h.getDocumentId().equals("grpc-ok")));
    }

    @Test
    void oversizedStreamsAreResourceExhausted() {
        var e = assertThrows(StatusRuntimeException.class, () -> client.ingest(Multi.createFrom().items(
                IntStream.range(0, 300).mapToObj(i -> Document.newBuilder().setId("many-" + i).setText("t").build())))
                .await().atMost(WAIT));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    }

    @Test
    void badSearchIsInvalidArgument() {
        var e = assertThrows(StatusRuntimeException.class, () -> client.search(SearchRequest.newBuilder()
                .setQuery("x").setK(1000).build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        var empty = assertThrows(StatusRuntimeException.class, () -> client.search(SearchRequest.newBuilder()
                .setQuery("").build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    }
}
