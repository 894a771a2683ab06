"""Knowledge base: versioned articles, keyword and semantic search, and the AI first responder.

The keyword path (`helpdesk.kb.bm25`, `helpdesk.kb.search`) imports nothing heavy; numpy and the
embedder are imported only when a semantic query is actually made, so the portal's cold start
stays light.
"""
