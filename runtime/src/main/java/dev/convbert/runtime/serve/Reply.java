package dev.convbert.runtime.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A protocol's answer to one request, for the server to send: the status and the JSON body. */
record Reply(int status, ObjectNode body) {}
