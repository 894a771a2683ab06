"""AI for the desk: embeddings, a similarity index, triage, grouping and the stream pipeline.

Ports and their adapters, chosen by configuration:

| port | default | option |
|---|---|---|
| `embed.Embedder` | `OnnxEmbedder` (all-MiniLM-L6-v2, int8) | `BedrockTitanEmbedder` |
| `index.SimilarityIndex` | `EmbeddedIndex` (numpy, exact cosine) | `opensearch.OpenSearchIndex` |
| `triage.Triager` | `LocalTriager` | `ClaudeTriager` (falls back to local) |

Nothing here imports onnxruntime, opensearch-py or anthropic at module import time.
"""
