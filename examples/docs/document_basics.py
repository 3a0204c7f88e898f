"""Documents: the default schema, DocumentArray, your own typed schema, and the bytes they travel as."""

import numpy as np
from docarray import BaseDoc, DocList
from docarray.typing import NdArray

from flowql import Document, DocumentArray
from flowql.codec import decode_docs, encode_docs

# The default schema: every document gets a fresh random id.
doc = Document(text="hello world", tags={"lang": "en"}, embedding=np.array([0.1, 0.2, 0.3]))
assert len(doc.id) == 32 and doc.id != Document().id

# Nested documents: chunks (parts of it) and matches (what it matched).
doc.chunks.append(Document(text="hello"))
doc.matches.append(Document(text="hello there", scores={"cosine": 0.9}))

# DocumentArray: a list of Documents with a few conveniences.
docs = DocumentArray([doc, Document(id="b", text="second")])
assert docs.texts == ["hello world", "second"]
assert docs["b"].text == "second"  # look up by id
docs.texts = ["HELLO WORLD", "SECOND"]
assert docs[0].text == "HELLO WORLD"


# Any docarray BaseDoc is a document schema; executors declare the ones they read and write.
class Review(BaseDoc):
    text: str
    stars: int = 0
    embedding: NdArray[4] | None = None


reviews = DocList[Review]([Review(text="great", stars=5, embedding=np.ones(4))])

# Between processes, documents travel as the bytes of a docarray DocListProto.
data = encode_docs(reviews)
back = decode_docs(data, Review)
assert back[0].stars == 5 and back[0].id == reviews[0].id
assert np.array_equal(back[0].embedding, np.ones(4))
again = decode_docs(encode_docs(docs), Document)
assert again[0].matches[0].scores == {"cosine": 0.9}
print("documents ok:", len(docs), "documents,", len(data), "bytes for one review")
