package dev.offload.gateway.api;

import dev.offload.gateway.security.TestKeys;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Server reflection, what {@code grpcurl} and Postman use instead of the .proto files: the
 * gateway's services and their schemas are listed for a caller with a key, and nothing for a
 * caller without one (the schema is API surface, like the REST endpoints).
 */
@QuarkusTest
class GrpcReflectionTest {
    private ManagedChannel channel;

    @BeforeEach
    void open() {
        int port = ConfigProvider.getConfig().getOptionalValue("quarkus.grpc.server.test-port", Integer.class).orElse(9001);
        channel = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    }

    @AfterEach
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void listsTheGatewaysServicesAndServesTheirSchemas() throws Exception {
        var stub = ServerReflectionGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TestKeys.metadata(TestKeys.DEFAULT_DEVICE)));
        ServerReflectionResponse listed = ask(stub, ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> names = listed.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
        assertTrue(names.containsAll(List.of("offload.v1.IndexService", "offload.v1.QueryService")), names.toString());

        ServerReflectionResponse file = ask(stub, ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("offload.v1.QueryService").build());
        assertTrue(file.getFileDescriptorResponse().getFileDescriptorProtoCount() > 0, file.toString());
        var proto = com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(
                file.getFileDescriptorResponse().getFileDescriptorProto(0));
        assertEquals("offload.v1", proto.getPackage());
    }

    @Test
    void withoutAKeyReflectionIsRefused() {
        var stub = ServerReflectionGrpc.newStub(channel);
        var e = assertThrows(ExecutionException.class,
                () -> ask(stub, ServerReflectionRequest.newBuilder().setListServices("").build()));
        StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
        assertEquals(Status.Code.UNAUTHENTICATED, s.getStatus().getCode());
    }

    private static ServerReflectionResponse ask(ServerReflectionGrpc.ServerReflectionStub stub,
                                                ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        answer.completeExceptionally(new IllegalStateException("stream ended without an answer"));
                    }
                });
        requests.onNext(request);
        try {
            return answer.get(30, TimeUnit.SECONDS);
        } finally {
            requests.onCompleted();
        }
    }
}
