/** The {@code export} command. */
package dev.convbert.exporter.cli;
