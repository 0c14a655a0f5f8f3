package dev.offload.gateway.api;

import dev.offload.gateway.security.CurrentCaller;

/**
 * The tenant a call acts for, from the caller's API key and nothing else (never a body, header
 * or path). A shorthand for {@link CurrentCaller}, which code outside {@code api} uses directly;
 * see there for threads and failure.
 */
public final class Callers {
    private Callers() {
    }

    /** The authenticated caller's tenant; 401 / UNAUTHENTICATED if the request has no caller. */
    public static String tenant() {
        return CurrentCaller.tenant();
    }
}
