package dev.offload.gateway.security;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AuthenticatorTest {
    @Test
    void bearerTokensFollowRfc6750() {
        assertEquals(Optional.of("abc"), Authenticator.bearerToken("Bearer abc"));
        assertEquals(Optional.of("abc"), Authenticator.bearerToken("bearer   abc "));
        assertEquals(Optional.empty(), Authenticator.bearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
        assertEquals(Optional.empty(), Authenticator.bearerToken("Bearer"));
        assertEquals(Optional.empty(), Authenticator.bearerToken("Bearer "));
        assertEquals(Optional.empty(), Authenticator.bearerToken("Bearer a b"));
        assertEquals(Optional.empty(), Authenticator.bearerToken("abc"));
        assertEquals(Optional.empty(), Authenticator.bearerToken("Bearer " + "x".repeat(Authenticator.MAX_KEY_LENGTH + 1)));
    }
}
