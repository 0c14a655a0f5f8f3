package dev.offload.gateway.api;

import dev.offload.gateway.retrieval.SampleCorpus;

/**
 * The tenant a call acts for. Until device identity lands every caller is the single default
 * tenant; the tenant never comes from a request body.
 */
final class Callers {
    private Callers() {
    }

    static String tenant() {
        return SampleCorpus.TENANT;
    }
}
