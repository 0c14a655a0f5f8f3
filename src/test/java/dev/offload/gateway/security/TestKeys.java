package dev.offload.gateway.security;

import io.grpc.Metadata;
import io.quarkus.grpc.GrpcClientUtils;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;

import java.util.List;

/**
 * The clear API keys behind {@code src/test/resources/test-keys} (the %test profile's keys
 * file), and the credentials every endpoint test sends. Test fixtures only.
 *
 * <pre>{@code
 * import static dev.offload.gateway.security.TestKeys.given;   // instead of RestAssured.given
 * given().body(...).post("/v1/search")                          // as the 'default' tenant's device
 * TestKeys.as(TestKeys.ACME).get("/v1/documents/x")             // as another tenant
 * IndexService acme = TestKeys.grpcAs(client, TestKeys.ACME);   // a gRPC client with the key attached
 * }</pre>
 */
public final class TestKeys {
    /** Tenant {@code default}, device: the tenant the sample corpus is loaded into. */
    public static final String DEFAULT_DEVICE = "tk-default-device-3b7e91c4a2";
    /** Tenant {@code default}, admin. */
    public static final String ADMIN = "tk-default-admin-8d20f6e5b1";
    public static final String ACME = "tk-acme-device-51c9a0e7d3";
    /** A second device of acme: rate limits are per device, not per tenant. */
    public static final String ACME_2 = "tk-acme-device2-c4f81b2e60";
    public static final String GLOBEX = "tk-globex-device-9e3d7a1f42";
    public static final String GLOBEX_2 = "tk-globex-device2-07b5e2c9d8";
    public static final String INITECH = "tk-initech-device-a6f0c3d815";
    /** Tenants iso-a, iso-b, iso-c: written by {@link TenantIsolationTest} alone, which models all they hold. */
    public static final String ISO_A1 = "tk-iso-a-device1-4d1e8b";
    public static final String ISO_A2 = "tk-iso-a-device2-91fa37";
    public static final String ISO_B1 = "tk-iso-b-device1-e6c250";
    public static final String ISO_B2 = "tk-iso-b-device2-3a7d0c";
    public static final String ISO_C = "tk-iso-c-device-b85f14";

    /** Every key with its tenant and role, as the keys file lists them. */
    public record Key(String key, String tenant, Role role) {
        /** The keys-file line for this key. */
        public String line() {
            return KeyRing.sha256Hex(key) + " " + tenant + " " + role.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final List<Key> ALL = List.of(
            new Key(DEFAULT_DEVICE, "default", Role.DEVICE),
            new Key(ADMIN, "default", Role.ADMIN),
            new Key(ACME, "acme", Role.DEVICE),
            new Key(ACME_2, "acme", Role.DEVICE),
            new Key(GLOBEX, "globex", Role.DEVICE),
            new Key(GLOBEX_2, "globex", Role.DEVICE),
            new Key(INITECH, "initech", Role.DEVICE),
            new Key(ISO_A1, "iso-a", Role.DEVICE),
            new Key(ISO_A2, "iso-a", Role.DEVICE),
            new Key(ISO_B1, "iso-b", Role.DEVICE),
            new Key(ISO_B2, "iso-b", Role.DEVICE),
            new Key(ISO_C, "iso-c", Role.DEVICE));

    private TestKeys() {
    }

    /** A REST Assured request as the {@code default} tenant's device. */
    public static RequestSpecification given() {
        return as(DEFAULT_DEVICE);
    }

    /** A REST Assured request with {@code Authorization: Bearer <key>}. */
    public static RequestSpecification as(String key) {
        return RestAssured.given().header("Authorization", bearer(key));
    }

    public static String bearer(String key) {
        return "Bearer " + key;
    }

    /** gRPC metadata carrying the key. */
    public static Metadata metadata(String key) {
        Metadata m = new Metadata();
        m.put(GrpcSecurityInterceptor.AUTHORIZATION, bearer(key));
        return m;
    }

    /** The same gRPC client, sending the key on every call. */
    public static <T> T grpcAs(T client, String key) {
        return GrpcClientUtils.attachHeaders(client, metadata(key));
    }
}
