-- AlterTable
ALTER TABLE "TaskQueue" ADD COLUMN     "declaredConcurrencyLimit" INTEGER,
ADD COLUMN     "limitOverriddenAt" TIMESTAMP(3);

