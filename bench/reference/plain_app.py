"""The reference for bench/http.py: a plain FastAPI + Pydantic + SQLAlchemy ORM app, as a
competent team would write it in an afternoon: validate → one INSERT → COMMIT, and GET by
primary key. Sync routes and a pooled engine, like tongban.

Run: ``PLAIN_DATABASE_URL=postgresql+psycopg://... uvicorn bench.reference.plain_app:app``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine(os.environ["PLAIN_DATABASE_URL"], pool_size=10, max_overflow=20)
factory = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "plain_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(max_length=2000)


class NoteOut(NoteIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime


Base.metadata.create_all(engine)
app = FastAPI()


def get_session() -> Iterator[Session]:
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@app.post("/notes", response_model=NoteOut, status_code=201)
def create_note(body: NoteIn, session: SessionDep) -> Note:
    note = Note(title=body.title, body=body.body, created_at=datetime.now(UTC))
    session.add(note)
    session.commit()
    return note


@app.get("/notes/{note_id}", response_model=NoteOut)
def read_note(note_id: int, session: SessionDep) -> Note:
    note = session.get(Note, note_id)
    if note is None:
        raise HTTPException(404)
    return note
