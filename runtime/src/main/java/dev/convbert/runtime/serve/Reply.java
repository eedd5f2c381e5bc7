package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A protocol's answer to one request, for the server to send: the status, the JSON body and, for Triton's binary
 * tensor extension, the raw output bytes that follow the JSON ({@code null} when there are none).
 */
record Reply(int status, ObjectNode body, byte[] binary) {
    Reply(int status, ObjectNode body) {
        this(status, body, null);
    }
}
