"""Initial schema: portals, crawl runs, agencies, documents, reports and their cells/checks/errors.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('normalized_name', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('normalized_name', name=op.f('uq_agencies_normalized_name'))
    )
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('portals', sa.JSON(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    op.create_table('portals',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('agency', sa.Text(), nullable=True),
    sa.Column('level', sa.String(length=50), nullable=True),
    sa.Column('cms', sa.String(length=100), nullable=True),
    sa.Column('start_urls', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portals'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('media_type', sa.String(length=200), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw_path', sa.Text(), nullable=True),
    sa.Column('portal_id', sa.String(length=200), nullable=True),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('parent_url', sa.Text(), nullable=True),
    sa.Column('parent_document_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('agency_name', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=10), nullable=True),
    sa.Column('publication_date', sa.String(length=10), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_kind', sa.String(length=50), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_runs.id'], name=op.f('fk_documents_crawl_run_id_crawl_runs')),
    sa.ForeignKeyConstraint(['parent_document_id'], ['documents.id'], name=op.f('fk_documents_parent_document_id_documents')),
    sa.ForeignKeyConstraint(['portal_id'], ['portals.id'], name=op.f('fk_documents_portal_id_portals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('url', 'sha256', name=op.f('uq_documents_url_sha256'))
    )
    op.create_index('ix_documents_agency_name_year', 'documents', ['agency_name', 'year'], unique=False)
    op.create_index('ix_documents_final_url', 'documents', ['final_url'], unique=False)
    op.create_index('ix_documents_parent_document_id', 'documents', ['parent_document_id'], unique=False)
    op.create_index('ix_documents_sha256', 'documents', ['sha256'], unique=False)

    op.create_table('cells',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('table', sa.String(length=20), nullable=False),
    sa.Column('row_key', sa.String(length=100), nullable=False),
    sa.Column('column_key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('raw_text', sa.Text(), nullable=True),
    sa.Column('semantic', sa.String(length=20), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_cells_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cells')),
    sa.UniqueConstraint('document_id', 'table', 'row_key', 'column_key', name=op.f('uq_cells_document_id_table_row_key_column_key'))
    )
    op.create_table('checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('where', sa.Text(), nullable=True),
    sa.Column('expected', sa.Text(), nullable=True),
    sa.Column('found', sa.Text(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_checks_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checks'))
    )
    op.create_index('ix_checks_document_id', 'checks', ['document_id'], unique=False)

    op.create_table('extraction_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_extraction_errors_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extraction_errors'))
    )
    op.create_index('ix_extraction_errors_document_id', 'extraction_errors', ['document_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=10), nullable=True),
    sa.Column('canonical_document_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_reports_agency_id_agencies')),
    sa.ForeignKeyConstraint(['canonical_document_id'], ['documents.id'], name=op.f('fk_reports_canonical_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('agency_id', 'year', name=op.f('uq_reports_agency_id_year'))
    )
    op.create_table('report_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('table', sa.String(length=20), nullable=False),
    sa.Column('row_key', sa.String(length=100), nullable=False),
    sa.Column('column_key', sa.String(length=100), nullable=False),
    sa.Column('canonical_value', sa.Text(), nullable=True),
    sa.Column('other_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_report_conflicts_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_conflicts_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_conflicts'))
    )
    op.create_index('ix_report_conflicts_report_id', 'report_conflicts', ['report_id'], unique=False)

    op.create_table('report_documents',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_report_documents_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_documents_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_report_documents'))
    )
    op.create_index('ix_report_documents_report_id', 'report_documents', ['report_id'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_report_documents_report_id', table_name='report_documents')

    op.drop_table('report_documents')
    op.drop_index('ix_report_conflicts_report_id', table_name='report_conflicts')

    op.drop_table('report_conflicts')
    op.drop_table('reports')
    op.drop_index('ix_extraction_errors_document_id', table_name='extraction_errors')

    op.drop_table('extraction_errors')
    op.drop_index('ix_checks_document_id', table_name='checks')

    op.drop_table('checks')
    op.drop_table('cells')
    op.drop_index('ix_documents_sha256', table_name='documents')
    op.drop_index('ix_documents_parent_document_id', table_name='documents')
    op.drop_index('ix_documents_final_url', table_name='documents')
    op.drop_index('ix_documents_agency_name_year', table_name='documents')

    op.drop_table('documents')
    op.drop_table('portals')
    op.drop_table('crawl_runs')
    op.drop_table('agencies')
