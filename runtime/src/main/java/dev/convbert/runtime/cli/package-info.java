/** The runtime's commands: score and serve. */
package dev.convbert.runtime.cli;
